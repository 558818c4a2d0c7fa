//! `socket.setEncoding(enc)`: Node's `StringDecoder` (its C++ `DecodeData` /
//! `FlushData`), which turns received chunks into strings without splitting a character
//! or an encoding group across two `'data'` events.
//!
//! Per encoding, as Node v20 does it:
//! * `utf8`: an incomplete sequence at the end of a chunk waits for its continuation
//!   bytes; a byte that cannot continue it ends it early (U+FFFD for what was buffered);
//!   invalid bytes become U+FFFD per maximal subpart, as V8 decodes; at EOF an incomplete
//!   sequence becomes U+FFFD.
//! * `utf16le` (`ucs2`): an odd trailing byte waits for its partner, and so does a
//!   trailing high surrogate (checked only when the chunk has an even length, like Node);
//!   at EOF a lone byte is dropped.
//! * `base64` / `base64url`: groups of three bytes; the remainder waits, and EOF flushes it
//!   (`base64` padded with `=`, `base64url` unpadded).
//! * `hex`, `latin1` (`binary`), `ascii` (each byte `& 0x7f`): nothing waits.
//!
//! One difference is forced by Rust's `String`: it cannot hold a lone UTF-16 surrogate.
//! Node can end one `'data'` string with a high surrogate and start the next with its low
//! half (an odd split inside a surrogate pair); here the high surrogate is held back and
//! the pair arrives whole in the next `Text`, so the concatenated text is Node's. Any other
//! lone surrogate becomes U+FFFD, as JavaScript's `toWellFormed()` would make it.

use crate::error::{Error, Result};

/// A read encoding accepted by [`Socket::set_encoding`](super::Socket::set_encoding):
/// every encoding Node's `StringDecoder` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `'utf8'` / `'utf-8'` (also what `''` means).
    Utf8,
    /// `'utf16le'` / `'utf-16le'` / `'ucs2'` / `'ucs-2'`.
    Utf16le,
    /// `'latin1'` / `'binary'`: one char per byte.
    Latin1,
    /// `'ascii'`: one char per byte, the top bit cleared.
    Ascii,
    /// `'base64'` (padded).
    Base64,
    /// `'base64url'` (URL alphabet, unpadded).
    Base64url,
    /// `'hex'`: two lowercase hex digits per byte.
    Hex,
}

impl Encoding {
    /// Node's `normalizeEncoding` (case-insensitive; `''` is `utf8`). Anything else is
    /// Node's `ERR_UNKNOWN_ENCODING` (`Unknown encoding: <name>`).
    ///
    /// ```
    /// use nodenet_core::socket::Encoding;
    /// assert_eq!(Encoding::parse("UCS-2").unwrap(), Encoding::Utf16le);
    /// assert_eq!(Encoding::parse("Binary").unwrap().as_str(), "latin1");
    /// assert_eq!(
    ///     Encoding::parse("utf-16").unwrap_err().to_string(),
    ///     "TypeError [ERR_UNKNOWN_ENCODING]: Unknown encoding: utf-16"
    /// );
    /// ```
    pub fn parse(name: &str) -> Result<Encoding> {
        // Node lower-cases with JavaScript's Unicode rules, but no non-ASCII character
        // lower-cases into one of these names, so ASCII folding decides the same.
        match name.to_ascii_lowercase().as_str() {
            "" | "utf8" | "utf-8" => Ok(Encoding::Utf8),
            "utf16le" | "utf-16le" | "ucs2" | "ucs-2" => Ok(Encoding::Utf16le),
            "latin1" | "binary" => Ok(Encoding::Latin1),
            "ascii" => Ok(Encoding::Ascii),
            "base64" => Ok(Encoding::Base64),
            "base64url" => Ok(Encoding::Base64url),
            "hex" => Ok(Encoding::Hex),
            _ => Err(Error::unknown_encoding(name)),
        }
    }

    /// The normalized name Node reports (`socket.readableEncoding`).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf8",
            Encoding::Utf16le => "utf16le",
            Encoding::Latin1 => "latin1",
            Encoding::Ascii => "ascii",
            Encoding::Base64 => "base64",
            Encoding::Base64url => "base64url",
            Encoding::Hex => "hex",
        }
    }
}

/// Incremental decoder for one encoding: Node's `StringDecoder`.
#[derive(Clone, Debug)]
pub(crate) struct Decoder {
    encoding: Encoding,
    /// Node's incomplete-character buffer and its two counters.
    partial: [u8; 4],
    buffered: usize,
    missing: usize,
    /// `utf16le`: a high surrogate that ended the last output, waiting for its low half.
    high_surrogate: Option<u16>,
}

impl Decoder {
    pub(crate) fn new(encoding: Encoding) -> Decoder {
        Decoder {
            encoding,
            partial: [0; 4],
            buffered: 0,
            missing: 0,
            high_surrogate: None,
        }
    }

    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// `decoder.write(chunk)`: may return an empty string when the chunk only started a
    /// character or group.
    pub(crate) fn write(&mut self, chunk: &[u8]) -> String {
        let mut out = Output::new(self.encoding);
        match self.encoding {
            Encoding::Latin1 | Encoding::Ascii | Encoding::Hex => out.push(chunk),
            _ => self.decode_data(chunk, &mut out),
        }
        out.finish(&mut self.high_surrogate, false)
    }

    /// `decoder.end()`: what is left at EOF, `None` when nothing is.
    pub(crate) fn end(&mut self) -> Option<String> {
        let mut out = Output::new(self.encoding);
        if self.encoding == Encoding::Utf16le && self.buffered % 2 == 1 {
            // Node drops a single trailing byte.
            self.buffered -= 1;
            self.missing = self.missing.saturating_sub(1);
        }
        if self.buffered > 0 {
            out.push(&self.partial[..self.buffered]);
        }
        self.buffered = 0;
        self.missing = 0;
        let s = out.finish(&mut self.high_surrogate, true);
        (!s.is_empty()).then_some(s)
    }

    /// Node's `StringDecoder::DecodeData` for the encodings that carry bytes over.
    fn decode_data(&mut self, mut data: &[u8], out: &mut Output) {
        if self.missing > 0 {
            if self.encoding == Encoding::Utf8 {
                // A byte that is not a continuation ends the incomplete character early;
                // the continuation bytes before it still belong to it.
                let end = data.len().min(self.missing);
                if let Some(i) = data[..end].iter().position(|b| b & 0xC0 != 0x80) {
                    self.missing = 0;
                    self.take_partial(&data[..i]);
                    data = &data[i..];
                }
            }
            let found = data.len().min(self.missing);
            self.take_partial(&data[..found]);
            data = &data[found..];
            self.missing -= found;
            if self.missing == 0 {
                out.push(&self.partial[..self.buffered]);
                self.buffered = 0;
            }
        }
        if data.is_empty() {
            return;
        }
        let keep = self.incomplete_tail(data);
        let (body, tail) = data.split_at(data.len() - keep);
        self.partial[..keep].copy_from_slice(tail);
        self.buffered = keep;
        out.push(body);
    }

    fn take_partial(&mut self, bytes: &[u8]) {
        // Node never buffers more than four bytes; bounded here as well.
        let n = bytes.len().min(self.partial.len() - self.buffered);
        self.partial[self.buffered..self.buffered + n].copy_from_slice(&bytes[..n]);
        self.buffered += n;
    }

    /// How many trailing bytes of `data` (non-empty, nothing buffered) must wait for the
    /// next chunk; sets `missing` to how many more bytes they need.
    fn incomplete_tail(&mut self, data: &[u8]) -> usize {
        let n = data.len();
        match self.encoding {
            Encoding::Utf8 => {
                if data[n - 1] & 0x80 == 0 {
                    return 0;
                }
                // Walk back to the lead byte of the last character.
                let mut count = 0;
                for i in (0..n).rev() {
                    count += 1;
                    let b = data[i];
                    if b & 0xC0 == 0x80 {
                        if count >= 4 || i == 0 {
                            return 0;
                        }
                        continue;
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
                    if count >= need {
                        return 0;
                    }
                    self.missing = need - count;
                    return count;
                }
                0
            }
            Encoding::Utf16le => {
                if n % 2 == 1 {
                    self.missing = 1;
                    1
                } else if data[n - 1] & 0xFC == 0xD8 {
                    self.missing = 2;
                    2
                } else {
                    0
                }
            }
            Encoding::Base64 | Encoding::Base64url => {
                let keep = n % 3;
                if keep > 0 {
                    self.missing = 3 - keep;
                }
                keep
            }
            Encoding::Latin1 | Encoding::Ascii | Encoding::Hex => 0,
        }
    }
}

/// The text of one `write`/`end`, built from byte runs that are each decoded on their own
/// (Node's `MakeString` per run, then string concatenation).
struct Output {
    encoding: Encoding,
    text: String,
    /// `utf16le` code units, turned into text at the end (a surrogate pair may span two
    /// runs).
    units: Vec<u16>,
}

impl Output {
    fn new(encoding: Encoding) -> Output {
        Output {
            encoding,
            text: String::new(),
            units: Vec::new(),
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match self.encoding {
            Encoding::Utf8 => self.text.push_str(&String::from_utf8_lossy(bytes)),
            Encoding::Latin1 => self.text.extend(bytes.iter().map(|&b| char::from(b))),
            Encoding::Ascii => self
                .text
                .extend(bytes.iter().map(|&b| char::from(b & 0x7f))),
            Encoding::Hex => {
                self.text.reserve(bytes.len() * 2);
                for &b in bytes {
                    self.text.push(char::from(HEX[usize::from(b >> 4)]));
                    self.text.push(char::from(HEX[usize::from(b & 15)]));
                }
            }
            Encoding::Base64 => base64(bytes, STANDARD, true, &mut self.text),
            Encoding::Base64url => base64(bytes, URL_SAFE, false, &mut self.text),
            Encoding::Utf16le => self.units.extend(
                bytes
                    .chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]])),
            ),
        }
    }

    /// The text; for `utf16le` a trailing high surrogate is kept in `carry` (unless
    /// `last`) and a carried one is put in front.
    fn finish(mut self, carry: &mut Option<u16>, last: bool) -> String {
        if self.encoding != Encoding::Utf16le {
            return self.text;
        }
        if let Some(high) = carry.take() {
            self.units.insert(0, high);
        }
        if !last {
            if let Some(&u) = self.units.last() {
                if (0xD800..0xDC00).contains(&u) {
                    *carry = Some(u);
                    self.units.pop();
                }
            }
        }
        char::decode_utf16(self.units.iter().copied())
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    }
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `bytes` (the last group padded with `=` when `pad`).
fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool, out: &mut String) {
    let sym = |v: u32| char::from(alphabet[(v & 63) as usize]);
    for group in bytes.chunks(3) {
        let b = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
        let v = b(0) << 16 | b(1) << 8 | b(2);
        out.push(sym(v >> 18));
        out.push(sym(v >> 12));
        if group.len() > 1 {
            out.push(sym(v >> 6));
        } else if pad {
            out.push('=');
        }
        if group.len() > 2 {
            out.push(sym(v));
        } else if pad {
            out.push('=');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(enc: Encoding, chunks: &[&[u8]]) -> Vec<String> {
        let mut d = Decoder::new(enc);
        let mut out: Vec<String> = chunks.iter().map(|c| d.write(c)).collect();
        out.push(d.end().unwrap_or_default());
        out
    }

    #[test]
    fn utf8_split_across_chunks() {
        let text = "héllo wörld €𝄞";
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let out = run(Encoding::Utf8, &[&bytes[..cut], &bytes[cut..]]);
            assert_eq!(out.concat(), text, "cut at {cut}");
            assert_eq!(out[2], "");
        }
    }

    #[test]
    fn utf8_incomplete_cases_match_node() {
        // node: StringDecoder('utf8'): write([0xe2]) '', write([0x41]) '\ufffdA', end() ''
        assert_eq!(
            run(Encoding::Utf8, &[&[0xE2], &[0x41]]),
            ["", "\u{FFFD}A", ""]
        );
        assert_eq!(
            run(Encoding::Utf8, &[&[b'a', 0xE2, 0x82]]),
            ["a", "\u{FFFD}"]
        );
    }

    #[test]
    fn base64_groups_match_node() {
        // node: write([1]) '', write([2,3,4]) 'AQID', write([5,6]) 'BAUG', end() ''
        assert_eq!(
            run(Encoding::Base64, &[&[1], &[2, 3, 4], &[5, 6]]),
            ["", "AQID", "BAUG", ""]
        );
        // node: base64url write([0xfb]) '', write([0xff,0xfe,0xfb]) '-__-', end() '-w'
        assert_eq!(
            run(Encoding::Base64url, &[&[0xFB], &[0xFF, 0xFE, 0xFB]]),
            ["", "-__-", "-w"]
        );
        assert_eq!(run(Encoding::Base64, &[&[0xFB]]), ["", "+w=="]);
    }

    #[test]
    fn utf16le_surrogate_split_by_an_odd_byte_arrives_whole() {
        // node: ['', '\ud83d', '\ude00', ''] — a pair split over two strings, which a
        // Rust String cannot hold; the high half waits instead.
        assert_eq!(
            run(Encoding::Utf16le, &[&[0x3D], &[0xD8, 0x00], &[0xDE, 0x41]]),
            ["", "", "😀", ""]
        );
        // node: write([0x3d,0xd8]) '', end() '\ud83d' (lone) → U+FFFD
        assert_eq!(run(Encoding::Utf16le, &[&[0x3D, 0xD8]]), ["", "\u{FFFD}"]);
    }

    #[test]
    fn single_byte_encodings() {
        // node: Buffer.from([0x41,0xe9,0xff,0x80,0x7f]).toString('ascii') → codes
        // [65, 105, 127, 0, 127]
        assert_eq!(
            run(Encoding::Ascii, &[&[0x41, 0xE9, 0xFF, 0x80, 0x7F]])[0],
            "Ai\u{7f}\u{0}\u{7f}"
        );
        assert_eq!(run(Encoding::Hex, &[&[0xAB, 1]])[0], "ab01");
        assert_eq!(run(Encoding::Latin1, &[&[0xE9]])[0], "é");
    }

    #[test]
    fn names() {
        for (name, enc) in [
            ("UTF-8", Encoding::Utf8),
            ("", Encoding::Utf8),
            ("Ucs2", Encoding::Utf16le),
            ("UTF-16LE", Encoding::Utf16le),
            ("BINARY", Encoding::Latin1),
            ("Base64URL", Encoding::Base64url),
            ("HEX", Encoding::Hex),
            ("aScIi", Encoding::Ascii),
        ] {
            assert_eq!(Encoding::parse(name).unwrap(), enc, "{name}");
        }
        for bad in ["bogus", "utf-16", "utf16", "ucs-2le", " utf8"] {
            let e = Encoding::parse(bad).unwrap_err();
            assert_eq!(e.message(), format!("Unknown encoding: {bad}"));
        }
    }
}
