//! Normalised event traces: the entry format shared by the Node runner and the Rust
//! drivers, and the recorder that builds traces (merging data, hiding temporary paths).
//!
//! # Entry format
//!
//! | entry | recorded when |
//! |---|---|
//! | `listening`, `connection`, `drop`, `close` | server events |
//! | `lookup:<ip>` / `lookup:error:<CODE>` | a `lookup` event |
//! | `connectionAttempt:<ip or path>` | a connection attempt starts |
//! | `connectionAttemptFailed:<ip>:<CODE>` | an attempt failed |
//! | `connectionAttemptTimeout:<ip>` | an attempt timed out |
//! | `connect`, `ready`, `end`, `drain`, `timeout`, `finish` | socket events |
//! | `data:<utf-8 text>` | data; consecutive data entries are merged (chunking differs between runtimes); `data` alone for [`quiet_data`](crate::Scenario::quiet_data) actors; `data#<length>` for [`count_data`](crate::Scenario::count_data) actors |
//! | `error:<CODE>` | an `error` event (an AggregateError shows its `code`); `error:<CODE>:<String(err)>` for [`error_messages`](crate::Scenario::error_messages) actors, the servers' ports shown as `<port>` |
//! | `close:true` / `close:false` / `close` | socket `close` with hadError, or without argument |
//! | `blocked` / `neverBlocked` | result of `write_until_blocked` |
//! | `mark:<label>` | a `mark` step |
//! | `throw:<CODE>` | an action failed synchronously |
//! | `write:<label>=<bool>` | what a `write` with a callback returned |
//! | `cb:<label>:ok` / `cb:<label>:<CODE>` | a labelled `write`/`end` callback ran (with no error / with an error) |
//! | `<property>=<value>` | an `assert` step (values rendered by [`PropertyValue`]) |
//!
//! No entry contains a port number; the run's temporary directory shows as `<tmp>`.
use std::collections::BTreeMap;
use std::fmt;

/// Per-actor traces: actor name → entries in order.
pub type Traces = BTreeMap<String, Vec<String>>;

/// One event as a driver observes it, before normalisation to an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Server `listening`.
    Listening,
    /// Server `connection` (use [`crate::ScriptRunner::accept_name`] so the conn gets its name).
    Connection,
    /// Server `drop`.
    Drop,
    /// `lookup` with an address.
    Lookup(String),
    /// `lookup` with an error code.
    LookupError(String),
    /// `connectionAttempt` to an IP (or a pipe path).
    ConnectionAttempt(String),
    /// `connectionAttemptFailed(ip, code)`.
    ConnectionAttemptFailed(String, String),
    /// `connectionAttemptTimeout(ip)`.
    ConnectionAttemptTimeout(String),
    /// `connect`.
    Connect,
    /// `ready`.
    Ready,
    /// `data` (bytes; shown as UTF-8, lossily).
    Data(Vec<u8>),
    /// `onread`'s callback with the bytes read into the caller's buffer (shown as UTF-8,
    /// lossily; consecutive reads merged like data).
    Read(Vec<u8>),
    /// `end`.
    End,
    /// `drain`.
    Drain,
    /// `timeout`.
    Timeout,
    /// `finish`.
    Finish,
    /// `error` with the error's code and its text as JavaScript's `String(err)` prints it
    /// (recorded only for the scenario's `error_messages` actors).
    Error(String, String),
    /// Socket `close(hadError)`; `None` = emitted without argument (no handle). Server
    /// `close` is `Close(None)`.
    Close(Option<bool>),
    /// The callback labelled `.0` of a `write` or `end` ran, with the error code `.1`
    /// (`None`: no error).
    Callback(String, Option<String>),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Listening => f.write_str("listening"),
            Event::Connection => f.write_str("connection"),
            Event::Drop => f.write_str("drop"),
            Event::Lookup(ip) => write!(f, "lookup:{ip}"),
            Event::LookupError(code) => write!(f, "lookup:error:{code}"),
            Event::ConnectionAttempt(ip) => write!(f, "connectionAttempt:{ip}"),
            Event::ConnectionAttemptFailed(ip, code) => {
                write!(f, "connectionAttemptFailed:{ip}:{code}")
            }
            Event::ConnectionAttemptTimeout(ip) => write!(f, "connectionAttemptTimeout:{ip}"),
            Event::Connect => f.write_str("connect"),
            Event::Ready => f.write_str("ready"),
            Event::Data(bytes) => write!(f, "data:{}", String::from_utf8_lossy(bytes)),
            Event::Read(bytes) => write!(f, "read:{}", String::from_utf8_lossy(bytes)),
            Event::End => f.write_str("end"),
            Event::Drain => f.write_str("drain"),
            Event::Timeout => f.write_str("timeout"),
            Event::Finish => f.write_str("finish"),
            Event::Error(code, _) => write!(f, "error:{code}"),
            Event::Close(None) => f.write_str("close"),
            Event::Close(Some(had_error)) => write!(f, "close:{had_error}"),
            Event::Callback(label, None) => write!(f, "cb:{label}:ok"),
            Event::Callback(label, Some(code)) => write!(f, "cb:{label}:{code}"),
        }
    }
}

/// A property value as Node's runner renders it: strings bare, `undefined`, `null`,
/// booleans, integers without a fraction, lists as JSON arrays of strings.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertyValue {
    /// JavaScript `undefined` (a Rust `None` where Node returns undefined).
    Undefined,
    /// JavaScript `null` (e.g. `server.address()` when not listening).
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    Str(String),
    /// A list of strings (e.g. attempted addresses without their ports).
    List(Vec<String>),
}

impl fmt::Display for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Undefined => f.write_str("undefined"),
            PropertyValue::Null => f.write_str("null"),
            PropertyValue::Bool(b) => write!(f, "{b}"),
            // JavaScript prints integral numbers without a fraction.
            PropertyValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                write!(f, "{}", *n as i64)
            }
            PropertyValue::Number(n) => write!(f, "{n}"),
            PropertyValue::Str(s) => f.write_str(s),
            PropertyValue::List(items) => {
                f.write_str(&serde_json::Value::from(items.clone()).to_string())
            }
        }
    }
}

impl PropertyValue {
    /// The rendering of a JSON value written in a scenario's `equals`, for checking it
    /// against the recorded trace.
    pub fn render_json(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// Builds traces: records entries per actor, merges consecutive data, hides the
/// temporary directory, and stops recording once frozen.
#[derive(Debug, Clone, Default)]
pub struct TraceRecorder {
    traces: Traces,
    quiet: Vec<String>,
    counted: Vec<String>,
    with_messages: Vec<String>,
    ports: Vec<u16>,
    tmp: Option<String>,
    frozen: bool,
}

impl TraceRecorder {
    /// A recorder; `quiet` actors record `data` without text; `tmp` (the run's temporary
    /// directory) is replaced by `<tmp>` in every entry.
    pub fn new(quiet: &[String], tmp: Option<&str>) -> TraceRecorder {
        TraceRecorder {
            traces: Traces::new(),
            quiet: quiet.to_vec(),
            counted: Vec::new(),
            with_messages: Vec::new(),
            ports: Vec::new(),
            tmp: tmp.filter(|t| !t.is_empty()).map(str::to_owned),
            frozen: false,
        }
    }

    /// Record the data of `counted` actors as `data#<length>`, and the `error` events of
    /// `with_messages` actors with their text.
    pub fn with_details(mut self, counted: &[String], with_messages: &[String]) -> Self {
        self.counted = counted.to_vec();
        self.with_messages = with_messages.to_vec();
        self
    }

    /// A server of the run listens on `port`: error texts show it as `<port>`.
    pub fn note_port(&mut self, port: u16) {
        if !self.ports.contains(&port) {
            self.ports.push(port);
        }
    }

    /// `text` with every `:<port>` of a known server written `:<port>` literally.
    fn hide_ports(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(':') {
            out.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let known = rest[..digits]
                .parse::<u16>()
                .is_ok_and(|p| self.ports.contains(&p));
            if known {
                out.push_str("<port>");
                rest = &rest[digits..];
            }
        }
        out.push_str(rest);
        out
    }

    /// Record an event; returns this event's own entry, before merging (`data:two`, not
    /// the `data:onetwo` the trace now shows), which is what Node's runner matches the
    /// reactive rules against; `None` when frozen.
    pub fn record(&mut self, actor: &str, event: &Event) -> Option<String> {
        match event {
            Event::Data(bytes) if self.counted.iter().any(|c| c == actor) => {
                self.record_count(actor, bytes)
            }
            Event::Data(bytes) => self.record_data(actor, bytes),
            Event::Read(bytes) => self.record_read(actor, bytes),
            Event::Error(code, text) if self.with_messages.iter().any(|a| a == actor) => {
                let entry = format!("error:{code}:{}", self.hide_ports(text));
                self.record_entry(actor, &entry)
            }
            other => self.record_entry(actor, &other.to_string()),
        }
    }

    fn record_count(&mut self, actor: &str, bytes: &[u8]) -> Option<String> {
        if self.frozen {
            return None;
        }
        // JavaScript's `string.length`: UTF-16 code units.
        let n = String::from_utf8_lossy(bytes).encode_utf16().count();
        let trace = self.traces.entry(actor.to_owned()).or_default();
        let previous = trace
            .last()
            .and_then(|last| last.strip_prefix("data#"))
            .and_then(|count| count.parse::<usize>().ok());
        let entry = format!("data#{}", previous.unwrap_or(0) + n);
        match previous {
            Some(_) => {
                if let Some(last) = trace.last_mut() {
                    last.clone_from(&entry);
                }
            }
            None => trace.push(entry),
        }
        Some(format!("data#{n}"))
    }

    fn record_data(&mut self, actor: &str, bytes: &[u8]) -> Option<String> {
        if self.frozen {
            return None;
        }
        let quiet = self.quiet.iter().any(|q| q == actor);
        let text = String::from_utf8_lossy(bytes);
        let entry = if quiet {
            "data".to_owned()
        } else {
            format!("data:{text}")
        };
        let trace = self.traces.entry(actor.to_owned()).or_default();
        match trace.last_mut() {
            Some(last) if last == "data" || last.starts_with("data:") => {
                if !quiet {
                    last.push_str(&text);
                }
            }
            _ => trace.push(entry.clone()),
        }
        Some(entry)
    }

    /// `onread` reads: like data, consecutive reads make one `read:<text>` entry (the
    /// size of each read is the kernel's business, not Node's).
    fn record_read(&mut self, actor: &str, bytes: &[u8]) -> Option<String> {
        if self.frozen {
            return None;
        }
        let text = String::from_utf8_lossy(bytes);
        let entry = format!("read:{text}");
        let trace = self.traces.entry(actor.to_owned()).or_default();
        match trace.last_mut() {
            Some(last) if last.starts_with("read:") => last.push_str(&text),
            _ => trace.push(entry.clone()),
        }
        Some(entry)
    }

    /// Record a raw entry (marks, property snapshots, throws, runner failures).
    pub fn record_entry(&mut self, actor: &str, entry: &str) -> Option<String> {
        if self.frozen {
            return None;
        }
        let entry = match &self.tmp {
            Some(tmp) => entry.replace(tmp.as_str(), "<tmp>"),
            None => entry.to_owned(),
        };
        self.traces
            .entry(actor.to_owned())
            .or_default()
            .push(entry.clone());
        Some(entry)
    }

    /// The trace of one actor so far.
    pub fn trace(&self, actor: &str) -> &[String] {
        self.traces.get(actor).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Stop recording (after the settle period).
    pub fn freeze(&mut self) {
        self.frozen = true;
    }

    /// The traces, without empty ones.
    pub fn into_traces(mut self) -> Traces {
        self.traces.retain(|_, t| !t.is_empty());
        self.traces
    }
}

/// Whether a trace entry matches a `wait`/rule event: equal, or `<event>:` prefixed.
pub fn entry_matches(entry: &str, event: &str) -> bool {
    entry == event
        || (entry.len() > event.len()
            && entry.starts_with(event)
            && entry.as_bytes().get(event.len()) == Some(&b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_reads_into_the_callers_buffer_are_merged() {
        let mut r = TraceRecorder::new(&[], None);
        r.record("c", &Event::Read(b"hello wo".to_vec()));
        r.record("c", &Event::Read(b"rld".to_vec()));
        r.record("c", &Event::End);
        r.record("c", &Event::Read(b"x".to_vec()));
        assert_eq!(r.trace("c"), ["read:hello world", "end", "read:x"]);
    }

    #[test]
    fn consecutive_data_is_merged_and_broken_by_other_entries() {
        let mut r = TraceRecorder::new(&[], None);
        r.record("c", &Event::Data(b"hel".to_vec()));
        r.record("c", &Event::Data(b"lo".to_vec()));
        r.record("c", &Event::End);
        r.record("c", &Event::Data(b"x".to_vec()));
        assert_eq!(r.trace("c"), ["data:hello", "end", "data:x"]);
    }

    #[test]
    fn rules_see_each_events_own_entry_not_the_merged_one() {
        let mut r = TraceRecorder::new(&[], None);
        assert_eq!(
            r.record("c", &Event::Data(b"one".to_vec())).as_deref(),
            Some("data:one")
        );
        assert_eq!(
            r.record("c", &Event::Data(b"two".to_vec())).as_deref(),
            Some("data:two")
        );
        assert_eq!(
            r.record("c", &Event::Read(b"x".to_vec())).as_deref(),
            Some("read:x")
        );
        assert_eq!(
            r.record("c", &Event::Read(b"y".to_vec())).as_deref(),
            Some("read:y")
        );
        assert_eq!(r.trace("c"), ["data:onetwo", "read:xy"]);
    }

    #[test]
    fn quiet_actors_record_data_without_text() {
        let mut r = TraceRecorder::new(&["conn".to_owned()], None);
        r.record("conn", &Event::Data(vec![b'x'; 70000]));
        r.record("conn", &Event::Data(vec![b'x'; 3]));
        assert_eq!(r.trace("conn"), ["data"]);
    }

    #[test]
    fn counted_actors_record_the_summed_text_length() {
        let counted = ["conn".to_owned()];
        let mut r = TraceRecorder::new(&[], None).with_details(&counted, &[]);
        r.record("conn", &Event::Data("あい".as_bytes().to_vec()));
        r.record("conn", &Event::Data(b"x".to_vec()));
        r.record("conn", &Event::End);
        r.record("client", &Event::Data(b"x".to_vec()));
        assert_eq!(r.trace("conn"), ["data#3", "end"]);
        assert_eq!(r.trace("client"), ["data:x"]);
    }

    #[test]
    fn error_texts_are_shown_for_chosen_actors_with_ports_hidden() {
        let chosen = ["client".to_owned()];
        let mut r = TraceRecorder::new(&[], None).with_details(&[], &chosen);
        r.note_port(40123);
        let refused = || {
            Event::Error(
                "ECONNREFUSED".into(),
                "Error: connect ECONNREFUSED 127.0.0.1:40123".into(),
            )
        };
        r.record("client", &refused());
        r.record("client2", &refused());
        let other = Event::Error("EADDRINUSE".into(), "Error: listen :::9 :40".into());
        r.record("client", &other);
        assert_eq!(
            r.trace("client"),
            [
                "error:ECONNREFUSED:Error: connect ECONNREFUSED 127.0.0.1:<port>",
                "error:EADDRINUSE:Error: listen :::9 :40"
            ]
        );
        assert_eq!(r.trace("client2"), ["error:ECONNREFUSED"]);
    }

    #[test]
    fn tmp_dir_is_hidden_and_frozen_recorder_ignores_events() {
        let mut r = TraceRecorder::new(&[], Some("/tmp/abc"));
        r.record(
            "client",
            &Event::ConnectionAttempt("/tmp/abc/s.sock".into()),
        );
        r.freeze();
        assert_eq!(r.record("client", &Event::Close(Some(false))), None);
        assert_eq!(
            r.into_traces()["client"],
            ["connectionAttempt:<tmp>/s.sock"]
        );
    }

    #[test]
    fn entries_render_like_the_node_runner() {
        let ev = Event::ConnectionAttemptFailed("::1".into(), "ECONNREFUSED".into());
        assert_eq!(ev.to_string(), "connectionAttemptFailed:::1:ECONNREFUSED");
        assert_eq!(Event::Close(None).to_string(), "close");
        assert_eq!(Event::Close(Some(true)).to_string(), "close:true");
        assert_eq!(PropertyValue::Number(5.0).to_string(), "5");
        assert_eq!(PropertyValue::Number(0.5).to_string(), "0.5");
        let list = PropertyValue::List(vec!["::1".into(), "127.0.0.1".into()]);
        assert_eq!(list.to_string(), r#"["::1","127.0.0.1"]"#);
    }

    #[test]
    fn matching_is_exact_or_colon_prefixed() {
        assert!(entry_matches("close:true", "close"));
        assert!(entry_matches("close", "close"));
        assert!(!entry_matches("closed", "close"));
        assert!(entry_matches("data:hello", "data:hello"));
        assert!(!entry_matches("data:hell", "data:hello"));
    }
}
