//! `setEncoding` against the real Node (v20, `node` on PATH): random byte streams, cut
//! into random chunks, go through a socket with each encoding Node accepts and through
//! Node's `StringDecoder`; the text of every chunk and of the end must agree. Node's
//! strings are made well-formed first, with a high surrogate that ends one string moved to
//! the next, which is what a Rust `String` can carry (see the decoder's module docs).
//! Skipped, loudly, when `node` is missing.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use bytes::Bytes;
use nodenet_core::socket::{Socket, SocketEvent};
use nodenet_core::{Endpoint, SocketOptions};

/// splitmix64: deterministic inputs from a seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `JSON.stringify` of a well-formed string.
fn json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Bytes that exercise every decoder: ASCII, valid UTF-8 of every length, stray
/// continuation and lead bytes, UTF-16 surrogates, anything.
fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..rng.below(12) {
        match rng.below(7) {
            0 => v.push(b'a' + rng.below(26) as u8),
            1 => v.extend_from_slice("é".as_bytes()),
            2 => v.extend_from_slice("€".as_bytes()),
            3 => v.extend_from_slice("𝄞".as_bytes()),
            4 => v.push(0x80 | rng.below(0x80) as u8),
            5 => {
                // A UTF-16LE surrogate half.
                v.push(rng.below(256) as u8);
                v.push(0xD8 + rng.below(8) as u8);
            }
            _ => v.push(rng.below(256) as u8),
        }
    }
    v
}

fn random_chunks(rng: &mut Rng, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(5));
        chunks.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    chunks
}

/// Each chunk's text and the end's text, as a socket with `encoding` emits them.
fn nodenet(encoding: &str, chunks: &[Vec<u8>]) -> Vec<String> {
    let now = Instant::now();
    let mut s = Socket::accepted(
        &SocketOptions::default(),
        Endpoint::Tcp("127.0.0.1:1".parse().unwrap()),
        Endpoint::Tcp("127.0.0.1:2".parse().unwrap()),
        now,
    );
    s.set_encoding(encoding).unwrap();
    let drain = |s: &mut Socket| {
        let mut text = String::new();
        while let Some(ev) = s.poll_event() {
            match ev {
                SocketEvent::Text(t) => {
                    assert!(!t.is_empty(), "an empty Text event");
                    text.push_str(&t);
                }
                SocketEvent::Data(_) => panic!("Data after set_encoding"),
                _ => {}
            }
        }
        text
    };
    let mut out = Vec::new();
    for c in chunks {
        s.handle_data(Bytes::copy_from_slice(c), now);
        out.push(drain(&mut s));
    }
    s.handle_eof(now);
    out.push(drain(&mut s));
    out
}

const SCRIPT: &str = r#"
const { StringDecoder } = require('string_decoder');
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
for (const [enc, chunks] of cases) {
  const d = new StringDecoder(enc);
  const raw = chunks.map(c => d.write(Buffer.from(c)));
  raw.push(d.end());
  let carry = '';
  const out = raw.map((s, i) => {
    s = carry + s;
    carry = '';
    if (i < raw.length - 1 && /[\uD800-\uDBFF]$/.test(s)) {
      carry = s.slice(-1);
      s = s.slice(0, -1);
    }
    return s.toWellFormed();
  });
  console.log(JSON.stringify(out));
}
"#;

#[test]
fn every_encoding_decodes_split_chunks_like_node() {
    let encodings = [
        "utf8",
        "utf16le",
        "latin1",
        "ascii",
        "base64",
        "base64url",
        "hex",
    ];
    let mut rng = Rng(0x5EED_DEC0);
    let mut cases = Vec::new();
    for enc in encodings {
        for _ in 0..250 {
            let bytes = random_bytes(&mut rng);
            let chunks = random_chunks(&mut rng, &bytes);
            cases.push((enc, chunks));
        }
    }
    let input = format!(
        "[{}]",
        cases
            .iter()
            .map(|(enc, chunks)| format!("[\"{enc}\",{chunks:?}]"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut child = match Command::new("node")
        .arg("-e")
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("SKIPPED: node is not available ({e})");
            return;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("feed node");
    let out = child.wait_with_output().expect("node runs");
    assert!(out.status.success(), "node failed");
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), cases.len());
    for ((enc, chunks), want) in cases.iter().zip(&lines) {
        let got = nodenet(enc, chunks);
        let got = format!(
            "[{}]",
            got.iter().map(|s| json(s)).collect::<Vec<_>>().join(",")
        );
        assert_eq!(&got, want, "{enc} {chunks:?}");
    }
}
