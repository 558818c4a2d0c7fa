//! The demo's server and client logic, in-process on an ephemeral port, on every backend
//! (and across backends: a tokio client against a std server, and so on).

use std::sync::mpsc;
use std::time::Duration;

use nodenet_examples::{smol_demo, std_demo, tokio_demo, CLIENT_LINE};
use nodenet_tokio::{ConnectOptions, Endpoint, ListenOptions};

fn expected() -> String {
    format!("hello\r\n{CLIENT_LINE}")
}

/// Start `backend`'s echo server for one connection on 127.0.0.1:0; returns the port and
/// the thread (which ends when the server closed).
fn start_server(backend: &'static str) -> (u16, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let on_bound = move |addr: Option<Endpoint>| {
        let _ = tx.send(addr);
    };
    let listen = ListenOptions::port(0).host("127.0.0.1");
    let t = std::thread::spawn(move || {
        let r = match backend {
            "std" => std_demo::echo_server(listen, Some(1), |s| on_bound(s.address())),
            "smol" => smol::block_on(smol_demo::echo_server(listen, Some(1), |s| {
                on_bound(s.address())
            })),
            _ => tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(tokio_demo::echo_server(listen, Some(1), |s| {
                    on_bound(s.address())
                })),
        };
        r.unwrap();
    });
    match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
        Some(Endpoint::Tcp(a)) => (a.port(), t),
        other => panic!("not bound: {other:?}"),
    }
}

fn run_client(backend: &str, port: u16) -> Vec<u8> {
    let connect = ConnectOptions::tcp(port, "127.0.0.1");
    match backend {
        "std" => std_demo::echo_client(connect, CLIENT_LINE),
        "smol" => smol::block_on(smol_demo::echo_client(connect, CLIENT_LINE)),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(tokio_demo::echo_client(connect, CLIENT_LINE)),
    }
    .unwrap()
}

/// Run with a bound: the whole exchange must finish within 10 s.
fn bounded(server: &'static str, client: &'static str) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (port, t) = start_server(server);
        let got = run_client(client, port);
        t.join().unwrap();
        let _ = tx.send(got);
    });
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("demo timed out");
    assert_eq!(String::from_utf8(got).unwrap(), expected());
}

#[test]
fn tokio_echo_demo() {
    bounded("tokio", "tokio");
}

#[test]
fn smol_echo_demo() {
    bounded("smol", "smol");
}

#[test]
fn std_echo_demo() {
    bounded("std", "std");
}

#[test]
fn backends_talk_to_each_other() {
    bounded("std", "tokio");
    bounded("tokio", "smol");
    bounded("smol", "std");
}
