//! Node's argument validators (`validatePort`, `validateInt32`, `validateUint32`,
//! `getTimerDuration`) and the JavaScript conversions they rely on (`Number(string)`,
//! `util.inspect` of numbers and strings), so that every bad argument reachable from the
//! Rust API fails with the same code and message as in Node.
//!
//! Rust's types already rule out most of Node's `ERR_INVALID_ARG_TYPE` cases; what stays
//! reachable is modelled with [`NumberArg`] (any Rust number, including fractions and
//! NaN) and [`PortArg`] (a number or a string, as Node's `port` option).

use crate::error::{Error, Result};

/// A numeric argument as JavaScript sees it (a double). Built from any Rust number so that
/// callers can write `set_timeout(100)` or `set_timeout(1.5)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NumberArg(pub f64);

macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for NumberArg {
            fn from(v: $t) -> NumberArg {
                NumberArg(v as f64)
            }
        }
    )*};
}
number_from!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64);

/// A `port` argument: Node accepts a number or a numeric string (`'0x50'` is port 80).
#[derive(Clone, Debug, PartialEq)]
pub enum PortArg {
    /// A JavaScript number.
    Number(f64),
    /// A string converted with JavaScript's `Number()`.
    String(String),
}

macro_rules! port_from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for PortArg {
            fn from(v: $t) -> PortArg {
                PortArg::Number(v as f64)
            }
        }
    )*};
}
port_from_number!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64);

impl From<&str> for PortArg {
    fn from(v: &str) -> PortArg {
        PortArg::String(v.to_string())
    }
}
impl From<String> for PortArg {
    fn from(v: String) -> PortArg {
        PortArg::String(v)
    }
}
impl From<&String> for PortArg {
    fn from(v: &String) -> PortArg {
        PortArg::String(v.clone())
    }
}

impl PortArg {
    /// The value as JavaScript's unary `+` would see it.
    pub fn to_number(&self) -> f64 {
        match self {
            PortArg::Number(n) => *n,
            PortArg::String(s) => js_string_to_number(s),
        }
    }

    /// Node's `determineSpecificType` description (`type number (-1)`, `type string
    /// ('abc')`).
    pub fn describe(&self) -> String {
        match self {
            PortArg::Number(n) => describe_number(*n),
            PortArg::String(s) => describe_string(s),
        }
    }
}

/// Node's `validatePort(port, name)`: an integer in `0..=65535` given as a number or a
/// non-blank numeric string; returns `port | 0`.
///
/// ```
/// use nodenet_core::validate::validate_port;
/// assert_eq!(validate_port(&"0x50".into(), "Port").unwrap(), 80);
/// assert_eq!(validate_port(&(-1).into(), "Port").unwrap_err().message(),
///     "Port should be >= 0 and < 65536. Received type number (-1).");
/// ```
pub fn validate_port(port: &PortArg, name: &str) -> Result<u16> {
    let blank = matches!(port, PortArg::String(s) if js_trim(s).is_empty());
    let n = port.to_number();
    let ok = !blank && n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 65535.0;
    if !ok {
        return Err(Error::bad_port(name, &port.describe()));
    }
    Ok(n as u16)
}

/// Node's `validateInt32(value, name, min, max)`.
pub fn validate_int32(value: NumberArg, name: &str, min: i64, max: i64) -> Result<i32> {
    let v = value.0;
    if !is_integer(v) {
        return Err(Error::out_of_range(
            name,
            "an integer",
            &describe_out_of_range(v),
        ));
    }
    if v < min as f64 || v > max as f64 {
        return Err(Error::out_of_range(
            name,
            &format!(">= {min} && <= {max}"),
            &describe_out_of_range(v),
        ));
    }
    Ok(v as i32)
}

/// Node's `validateUint32(value, name, positive)`.
pub fn validate_uint32(value: NumberArg, name: &str, positive: bool) -> Result<u32> {
    let v = value.0;
    if !is_integer(v) {
        return Err(Error::out_of_range(
            name,
            "an integer",
            &describe_out_of_range(v),
        ));
    }
    let min = if positive { 1.0 } else { 0.0 };
    if v < min || v > 4_294_967_295.0 {
        return Err(Error::out_of_range(
            name,
            &format!(">= {} && <= 4294967295", min as u8),
            &describe_out_of_range(v),
        ));
    }
    Ok(v as u32)
}

/// Node's `getTimerDuration(msecs, name)` for `setTimeout`: a non-negative finite number;
/// values above `TIMEOUT_MAX` (2^31 - 1) are clamped to it as Node does (with a warning).
pub fn validate_timer_duration(value: NumberArg, name: &str) -> Result<f64> {
    let v = value.0;
    if v.is_nan() || v < 0.0 || !v.is_finite() {
        return Err(Error::out_of_range(
            name,
            "a non-negative finite number",
            &describe_out_of_range(v),
        ));
    }
    Ok(v.min(2_147_483_647.0))
}

fn is_integer(v: f64) -> bool {
    v.is_finite() && v.fract() == 0.0
}

/// JavaScript's `Number(string)`: trims JS whitespace, accepts decimal literals with
/// exponents, `Infinity`, and `0x`/`0o`/`0b` integers; `""` is 0; anything else is NaN.
pub fn js_string_to_number(s: &str) -> f64 {
    let t = js_trim(s);
    if t.is_empty() {
        return 0.0;
    }
    let lower_prefix = t.get(..2).map(|p| p.to_ascii_lowercase());
    let radix = match lower_prefix.as_deref() {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = &t[2..];
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return f64::NAN;
        }
        // Accumulate as f64 so huge literals round the way JS does instead of overflowing.
        return digits
            .chars()
            .filter_map(|c| c.to_digit(radix))
            .fold(0.0, |acc, d| acc * radix as f64 + d as f64);
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    if !is_decimal_literal(body) {
        return f64::NAN;
    }
    body.parse::<f64>().map(|v| sign * v).unwrap_or(f64::NAN)
}

/// `StrUnsignedDecimalLiteral`: digits with an optional fraction and exponent.
fn is_decimal_literal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// JavaScript's `String.prototype.trim` (WhiteSpace and LineTerminator code points).
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| {
        matches!(
            c,
            '\u{9}'
                | '\u{a}'
                | '\u{b}'
                | '\u{c}'
                | '\u{d}'
                | ' '
                | '\u{a0}'
                | '\u{1680}'
                | '\u{2000}'
                ..='\u{200a}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{202f}'
                    | '\u{205f}'
                    | '\u{3000}'
                    | '\u{feff}'
        )
    })
}

/// `util.inspect` of a number (`-0`, `NaN`, `Infinity`, `1.5`, `65536`, `1e+21`).
pub fn inspect_number(v: f64) -> String {
    if v == 0.0 && v.is_sign_negative() {
        "-0".to_string()
    } else {
        js_number_to_string(v)
    }
}

/// JavaScript's `String(number)` (ECMA-262 `Number::toString`): the shortest digits
/// that round-trip, in positional notation from 1e-6 up to 1e21 and as `d.ddde±x`
/// outside it (`1e+21`, `1.5e-7`, `18446744073709552000`).
pub fn js_number_to_string(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the same shortest round-trip digits: `d[.ddd]e<exp>`.
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    // The decimal point sits after `n` digits: value = 0.digits × 10^n.
    let n = exp.parse::<i64>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        let zeros = usize::try_from(n - k).unwrap_or(0);
        format!("{digits}{}", "0".repeat(zeros))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(usize::try_from(n).unwrap_or(0));
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        let zeros = usize::try_from(-n).unwrap_or(0);
        format!("0.{}{digits}", "0".repeat(zeros))
    } else {
        let e = n - 1;
        let e_sign = if e >= 0 { '+' } else { '-' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{e_sign}{}", e.abs())
        } else {
            format!("{first}.{rest}e{e_sign}{}", e.abs())
        }
    };
    format!("{sign}{body}")
}

/// Node's `addNumericalSeparator`: `_` before every group of three characters from the
/// right, the sign aside (`4_294_967_297`, `1e_+21` for `String(1e21)` as Node prints it).
pub fn add_numerical_separator(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let start = usize::from(chars.first() == Some(&'-'));
    let mut i = chars.len();
    let mut groups: Vec<String> = Vec::new();
    while i >= start + 4 {
        groups.push(chars[i - 3..i].iter().collect());
        i -= 3;
    }
    let mut out: String = chars[..i].iter().collect();
    for group in groups.iter().rev() {
        out.push('_');
        out.push_str(group);
    }
    out
}

/// `util.inspect` of a string: single-quoted (double quotes when it contains a single
/// quote and no double quote), as Node prints it in error messages.
pub fn inspect_string(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Node's `determineSpecificType` for a number: `type number (<inspect>)`.
pub fn describe_number(v: f64) -> String {
    format!("type number ({})", inspect_number(v))
}

/// Node's `determineSpecificType` for a string: `type string ('<first 25 chars>...')`.
pub fn describe_string(s: &str) -> String {
    let shown: String = if s.chars().count() > 28 {
        let mut t: String = s.chars().take(25).collect();
        t.push_str("...");
        t
    } else {
        s.to_string()
    };
    format!("type string ({})", inspect_string(&shown))
}

/// How `ERR_OUT_OF_RANGE` prints a number: integers above 2^32 in magnitude are
/// `String(v)` with `_` separators (`4_294_967_297`, `18_446_744_073_709_552_000`,
/// `1e_+21`), everything else is `util.inspect`ed.
pub fn describe_out_of_range(v: f64) -> String {
    if is_integer(v) && v.abs() > 4_294_967_296.0 {
        add_numerical_separator(&js_number_to_string(v))
    } else {
        inspect_number(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let cases = [
            (1e21, "1e+21"),
            (1e300, "1e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (18446744073709551616.0, "18446744073709552000"),
            (9007199254740994.0, "9007199254740994"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (1.5e-10, "1.5e-10"),
            (-1e21, "-1e+21"),
            (5e-324, "5e-324"),
            (-4294967297.0, "-4294967297"),
            (0.1, "0.1"),
            (1e20, "100000000000000000000"),
            (123.456, "123.456"),
            (-0.5, "-0.5"),
            (0.0, "0"),
        ];
        for (v, text) in cases {
            assert_eq!(js_number_to_string(v), text, "{v:e}");
        }
        assert_eq!(inspect_number(-0.0), "-0");
        let ranges = [
            (1e21, "1e_+21"),
            (-1e21, "-1e_+21"),
            (18446744073709551616.0, "18_446_744_073_709_552_000"),
            (-4294967297.0, "-4_294_967_297"),
            (f64::MAX, "1._797_693_134_862_315_7e+_308"),
            (2147483648.0, "2147483648"),
            (1.5, "1.5"),
        ];
        for (v, text) in ranges {
            assert_eq!(describe_out_of_range(v), text, "{v:e}");
        }
    }

    #[test]
    fn js_number_conversion() {
        assert_eq!(js_string_to_number("0x50"), 80.0);
        assert_eq!(js_string_to_number("1e3"), 1000.0);
        assert_eq!(js_string_to_number("-0"), 0.0);
        assert!(js_string_to_number("-0").is_sign_negative());
        assert_eq!(js_string_to_number("  42\n"), 42.0);
        assert_eq!(js_string_to_number(""), 0.0);
        assert_eq!(js_string_to_number(".5"), 0.5);
        assert_eq!(js_string_to_number("5."), 5.0);
        assert_eq!(js_string_to_number("+Infinity"), f64::INFINITY);
        for bad in [
            "80x", "abc", "inf", "nan", "0x", "-0x5", "1e", ".", "1_000", "0b2",
        ] {
            assert!(js_string_to_number(bad).is_nan(), "{bad}");
        }
    }

    #[test]
    fn ports_as_node_validates_them() {
        let ok = |p: PortArg| validate_port(&p, "Port").unwrap();
        assert_eq!(ok(80.into()), 80);
        assert_eq!(ok("0x50".into()), 80);
        assert_eq!(ok("1e3".into()), 1000);
        assert_eq!(ok("-0".into()), 0);
        assert_eq!(ok((-0.0f64).into()), 0);
        assert_eq!(ok(65535.into()), 65535);
        let bad = |p: PortArg| validate_port(&p, "Port").unwrap_err().message().to_string();
        assert_eq!(
            bad(65536.into()),
            "Port should be >= 0 and < 65536. Received type number (65536)."
        );
        assert_eq!(
            bad(1.5.into()),
            "Port should be >= 0 and < 65536. Received type number (1.5)."
        );
        assert_eq!(
            bad(f64::NAN.into()),
            "Port should be >= 0 and < 65536. Received type number (NaN)."
        );
        assert_eq!(
            bad(" ".into()),
            "Port should be >= 0 and < 65536. Received type string (' ')."
        );
        assert_eq!(
            bad("".into()),
            "Port should be >= 0 and < 65536. Received type string ('')."
        );
        assert_eq!(
            bad("80x".into()),
            "Port should be >= 0 and < 65536. Received type string ('80x')."
        );
    }

    #[test]
    fn int_validators() {
        let e = validate_int32(0.into(), "value", 1, 2147483647).unwrap_err();
        assert_eq!(
            e.message(),
            "The value of \"value\" is out of range. It must be >= 1 && <= 2147483647. Received 0"
        );
        let e = validate_int32(1.5.into(), "value", 1, 2147483647).unwrap_err();
        assert_eq!(
            e.message(),
            "The value of \"value\" is out of range. It must be an integer. Received 1.5"
        );
        // Node: `Received 4294967296` (not above 2^32), then `4_294_967_297`.
        let e = validate_uint32(4294967296u64.into(), "options.flowlabel", false).unwrap_err();
        assert!(e.message().ends_with("<= 4294967295. Received 4294967296"));
        let e = validate_uint32(4294967297u64.into(), "options.flowlabel", false).unwrap_err();
        assert!(e
            .message()
            .ends_with("<= 4294967295. Received 4_294_967_297"));
        assert_eq!(validate_uint32(7.into(), "x", false).unwrap(), 7);
        let e = validate_timer_duration((-1).into(), "msecs").unwrap_err();
        assert_eq!(
            e.message(),
            "The value of \"msecs\" is out of range. It must be a non-negative finite number. Received -1"
        );
        assert!(validate_timer_duration(f64::INFINITY.into(), "msecs").is_err());
    }

    #[test]
    fn inspect_forms() {
        assert_eq!(describe_string("it's"), "type string (\"it's\")");
        assert_eq!(
            describe_string("abcdefghijklmnopqrstuvwxyz0123"),
            "type string ('abcdefghijklmnopqrstuvwxy...')"
        );
        assert_eq!(inspect_number(-0.0), "-0");
        assert_eq!(inspect_number(65536.0), "65536");
    }
}
