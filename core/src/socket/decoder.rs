//! `socket.setEncoding(enc)`: turns received bytes into strings the way Node's
//! `StringDecoder` does, so a multi-byte UTF-8 sequence split across two reads is still
//! decoded as one character, and an incomplete sequence at EOF becomes U+FFFD.

use crate::error::{Error, Result};
use crate::validate::inspect_string;

/// A read encoding accepted by [`Socket::set_encoding`](super::Socket::set_encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `'utf8'` / `'utf-8'`.
    Utf8,
    /// `'latin1'` / `'binary'`: one char per byte.
    Latin1,
    /// `'hex'`: two lowercase hex digits per byte.
    Hex,
}

impl Encoding {
    /// Parse Node's encoding names (case-insensitive). Node encodings that nodenet does
    /// not decode (`base64`, `base64url`, `ucs2`, `utf16le`, `ascii`) are rejected with
    /// `ERR_INVALID_ARG_VALUE` rather than decoded wrongly; anything else is Node's
    /// `ERR_UNKNOWN_ENCODING`.
    pub fn parse(name: &str) -> Result<Encoding> {
        match name.to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Ok(Encoding::Utf8),
            "latin1" | "binary" => Ok(Encoding::Latin1),
            "hex" => Ok(Encoding::Hex),
            "base64" | "base64url" | "ucs2" | "ucs-2" | "utf16le" | "utf-16le" | "ascii" => {
                Err(Error::invalid_arg_value(
                    "encoding",
                    &inspect_string(name),
                    Some("is not supported by nodenet"),
                ))
            }
            _ => Err(Error::unknown_encoding(name)),
        }
    }
}

/// Incremental decoder for one encoding.
#[derive(Clone, Debug)]
pub(crate) struct Decoder {
    encoding: Encoding,
    /// Bytes of an incomplete UTF-8 sequence carried to the next chunk.
    pending: Vec<u8>,
}

impl Decoder {
    pub(crate) fn new(encoding: Encoding) -> Decoder {
        Decoder {
            encoding,
            pending: Vec::new(),
        }
    }

    /// Decode one chunk; may return an empty string when the chunk only started a
    /// sequence.
    pub(crate) fn write(&mut self, chunk: &[u8]) -> String {
        match self.encoding {
            Encoding::Latin1 => chunk.iter().map(|&b| b as char).collect(),
            Encoding::Hex => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut s = String::with_capacity(chunk.len() * 2);
                for &b in chunk {
                    s.push(HEX[(b >> 4) as usize] as char);
                    s.push(HEX[(b & 15) as usize] as char);
                }
                s
            }
            Encoding::Utf8 => {
                let mut buf = std::mem::take(&mut self.pending);
                buf.extend_from_slice(chunk);
                let keep = incomplete_tail(&buf);
                let split = buf.len() - keep;
                self.pending = buf.split_off(split);
                String::from_utf8_lossy(&buf).into_owned()
            }
        }
    }

    /// `decoder.end()`: what is left at EOF (an incomplete sequence → U+FFFD).
    pub(crate) fn end(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            None
        } else {
            self.pending.clear();
            Some('\u{FFFD}'.to_string())
        }
    }
}

/// Length of a trailing UTF-8 sequence that is valid so far but incomplete.
fn incomplete_tail(buf: &[u8]) -> usize {
    // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
    for back in 1..=3.min(buf.len()) {
        let b = buf[buf.len() - back];
        if b & 0xC0 == 0x80 {
            continue; // continuation byte: keep looking for the lead
        }
        let need = if b & 0xE0 == 0xC0 {
            2
        } else if b & 0xF0 == 0xE0 {
            3
        } else if b & 0xF8 == 0xF0 {
            4
        } else {
            return 0;
        };
        return if need > back { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_across_chunks() {
        let text = "héllo wörld €𝄞";
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let mut d = Decoder::new(Encoding::Utf8);
            let mut out = d.write(&bytes[..cut]);
            out.push_str(&d.write(&bytes[cut..]));
            assert_eq!(out, text, "cut at {cut}");
            assert_eq!(d.end(), None);
        }
    }

    #[test]
    fn incomplete_at_end_is_replacement() {
        let mut d = Decoder::new(Encoding::Utf8);
        assert_eq!(d.write(&[b'a', 0xE2, 0x82]), "a");
        assert_eq!(d.end().as_deref(), Some("\u{FFFD}"));
    }

    #[test]
    fn names() {
        assert_eq!(Encoding::parse("UTF-8").unwrap(), Encoding::Utf8);
        let e = Encoding::parse("bogus").unwrap_err();
        assert_eq!(e.message(), "Unknown encoding: bogus");
        assert_eq!(Decoder::new(Encoding::Hex).write(&[0xab, 1]), "ab01");
        assert_eq!(Decoder::new(Encoding::Latin1).write(&[0xe9]), "é");
    }
}
