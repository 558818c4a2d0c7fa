//! Runs `examples/generic_serve.rs` (one server function on tokio and smol, its blocking
//! twin on std), which asserts its own answers. `cargo test` builds the examples next
//! to the test binaries, so the binary is found beside this test's own.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn example(name: &str) -> PathBuf {
    let mut p = std::env::current_exe().expect("test binary path");
    p.pop(); // deps/
    p.pop(); // debug/ (or release/)
    p.push("examples");
    p.push(name);
    p
}

#[test]
fn the_generic_server_answers_on_every_runtime() {
    let bin = example("generic_serve");
    assert!(bin.exists(), "{} not built", bin.display());
    let mut child = Command::new(&bin)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start generic_serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("generic_serve did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(status.success(), "generic_serve failed: {text}");
    for line in ["tokio: HELLO TOKIO", "smol: HELLO SMOL", "std: HELLO STD"] {
        assert!(text.contains(line), "missing {line:?} in {text}");
    }
}
