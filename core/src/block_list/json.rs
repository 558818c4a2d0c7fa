//! The little JSON `BlockList::to_json`/`from_json` need: writing and reading an array of
//! strings (Node v24.5's `toJSON` is `rules`, an array of strings).

use crate::error::{Error, Result};
use crate::validate::inspect_string;

/// `JSON.stringify(array_of_strings)`.
pub(super) fn array_of_strings(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

fn not_json(json: &str) -> Error {
    Error::invalid_arg_value("data", &inspect_string(json), Some("is not valid JSON"))
}

fn not_string_array(received: &str) -> Error {
    Error::invalid_arg_type("data", "of type string or string[]", received)
}

/// `JSON.parse(json)`, accepting only an array of strings: `ERR_INVALID_ARG_VALUE` when the
/// text is not JSON of that shape's grammar, `ERR_INVALID_ARG_TYPE` when it is JSON but
/// not an array of strings.
pub(super) fn parse_array_of_strings(json: &str) -> Result<Vec<String>> {
    let mut p = Parser {
        s: json.as_bytes(),
        i: 0,
    };
    p.ws();
    if p.peek() != Some(b'[') {
        // Valid JSON of another type (number, object, string...) is a type error in Node;
        // we do not parse other JSON types, so report the type error for anything that
        // starts like a JSON value and a syntax error otherwise.
        return Err(match p.peek() {
            Some(b'{' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
                not_string_array(&inspect_string(json))
            }
            _ => not_json(json),
        });
    }
    p.i += 1;
    let mut out = Vec::new();
    p.ws();
    if p.peek() == Some(b']') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            match p.peek() {
                Some(b'"') => out.push(p.string().ok_or_else(|| not_json(json))?),
                Some(b'{' | b'[' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
                    return Err(not_string_array(&inspect_string(json)))
                }
                _ => return Err(not_json(json)),
            }
            p.ws();
            match p.peek() {
                Some(b',') => p.i += 1,
                Some(b']') => {
                    p.i += 1;
                    break;
                }
                _ => return Err(not_json(json)),
            }
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(not_json(json));
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    /// A JSON string starting at the opening quote.
    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut units: Vec<u16> = Vec::new();
        loop {
            let b = self.peek()?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf16(&units).ok(),
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    let unit = match e {
                        b'"' => 0x22,
                        b'\\' => 0x5c,
                        b'/' => 0x2f,
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => 0x0a,
                        b'r' => 0x0d,
                        b't' => 0x09,
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            u16::from_str_radix(hex, 16).ok()?
                        }
                        _ => return None,
                    };
                    units.push(unit);
                }
                0..=0x1f => return None,
                _ => {
                    // Copy one UTF-8 character; the input is a &str so boundaries are valid.
                    let start = self.i - 1;
                    let len = match b {
                        0x00..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let ch = std::str::from_utf8(self.s.get(start..start + len)?).ok()?;
                    units.extend(ch.encode_utf16());
                    self.i = start + len;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn round_trip_and_errors() {
        let items = vec![
            "a \"q\" \\ é".to_string(),
            "Address: IPv4 1.2.3.4".to_string(),
        ];
        let json = array_of_strings(&items);
        assert_eq!(parse_array_of_strings(&json).unwrap(), items);
        assert_eq!(
            parse_array_of_strings(" [ ] ").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(parse_array_of_strings(r#"["\u0041\n"]"#).unwrap(), ["A\n"]);
        for bad in ["", "[", "[\"a\"", "[\"a\",]", "[1", "x", "[\"a\"] x"] {
            let code = parse_array_of_strings(bad).unwrap_err().code();
            assert!(
                matches!(
                    code,
                    ErrorCode::ERR_INVALID_ARG_VALUE | ErrorCode::ERR_INVALID_ARG_TYPE
                ),
                "{bad}"
            );
        }
        assert_eq!(
            parse_array_of_strings("[1]").unwrap_err().code(),
            ErrorCode::ERR_INVALID_ARG_TYPE
        );
        assert_eq!(
            parse_array_of_strings("{}").unwrap_err().code(),
            ErrorCode::ERR_INVALID_ARG_TYPE
        );
        assert_eq!(
            parse_array_of_strings("[x]").unwrap_err().code(),
            ErrorCode::ERR_INVALID_ARG_VALUE
        );
    }
}
