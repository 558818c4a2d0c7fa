//! The IO-free interpreter every Rust driver uses, exercised with a fake set of actors:
//! waits, sleeps, rules run inside `record`, throws, write_until_blocked, timeouts, settle.
use std::time::{Duration, Instant};

use nodenet_tests::{Actors, Event, Op, Poll, PropertyValue, Scenario, ScriptRunner};

/// Records what was performed; `write` returns false from the `block_at`-th call on.
#[derive(Default)]
struct Fake {
    log: Vec<String>,
    writes: usize,
    block_at: usize,
    fail_op: Option<&'static str>,
}

impl Actors for Fake {
    fn perform(&mut self, actor: &str, op: &Op) -> Result<bool, String> {
        let name = serde_json::to_value(op).unwrap()["op"]
            .as_str()
            .unwrap()
            .to_owned();
        self.log.push(format!("{actor}.{name}"));
        if self.fail_op == Some(name.as_str()) {
            return Err("ERR_INVALID_HANDLE_TYPE".into());
        }
        if name == "write" {
            self.writes += 1;
            return Ok(self.block_at == 0 || self.writes < self.block_at);
        }
        Ok(true)
    }

    fn property(&mut self, actor: &str, property: &str) -> PropertyValue {
        match (actor, property) {
            ("client", "readyState") => PropertyValue::Str("open".into()),
            ("conn", "bytesRead") | ("client", "bytesWritten") => PropertyValue::Number(42.0),
            ("server", "address") => PropertyValue::Null,
            _ => PropertyValue::Undefined,
        }
    }
}

fn scenario(json: &str) -> Scenario {
    Scenario::from_json(json).expect("valid scenario")
}

fn deadline(poll: Poll) -> Instant {
    match poll {
        Poll::Wait { deadline } => deadline,
        Poll::Done => panic!("unexpected Done"),
    }
}

#[test]
fn actions_run_until_a_wait_then_continue_right_after_the_event() {
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js","steps":[
            {"op":"listen","actor":"server"},
            {"op":"wait","actor":"server","event":"listening"},
            {"op":"connect","actor":"client"},
            {"op":"end","actor":"client","data":"x"},
            {"op":"wait","actor":"client","event":"close"}],"expected":{}}"#,
    );
    let t0 = Instant::now();
    let mut fake = Fake::default();
    let mut run = ScriptRunner::new(&s, None, t0);
    assert_eq!(
        deadline(run.poll(t0, &mut fake)),
        t0 + Duration::from_secs(2)
    );
    assert_eq!(fake.log, ["server.listen"]);
    run.record("server", &Event::Listening, &mut fake);
    run.poll(t0, &mut fake);
    assert_eq!(fake.log, ["server.listen", "client.connect", "client.end"]);
    run.record("client", &Event::Close(Some(false)), &mut fake);
    // After the last step: settle for 50 ms, still recording.
    let settle = deadline(run.poll(t0, &mut fake));
    assert_eq!(settle, t0 + Duration::from_millis(50));
    run.record(
        "client",
        &Event::Error("EPIPE".into(), "Error: write EPIPE".into()),
        &mut fake,
    );
    assert_eq!(run.poll(settle, &mut fake), Poll::Done);
    run.record("client", &Event::Finish, &mut fake); // frozen: ignored
    let traces = run.into_traces();
    assert_eq!(traces["server"], ["listening"]);
    assert_eq!(traces["client"], ["close:false", "error:EPIPE"]);
}

#[test]
fn rules_run_inside_record_once_and_default_to_their_actor() {
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js","on":[{"actor":"client","event":"connect","do":[
            {"op":"destroy"},{"op":"assert","property":"readyState"},{"op":"mark","actor":"conn","label":"m"}]}],
           "steps":[{"op":"wait","actor":"client","event":"close"}],"expected":{}}"#,
    );
    let t0 = Instant::now();
    let mut fake = Fake::default();
    let mut run = ScriptRunner::new(&s, None, t0);
    run.poll(t0, &mut fake);
    run.record("client", &Event::Connect, &mut fake);
    assert_eq!(fake.log, ["client.destroy"], "ran before record returned");
    run.record("client", &Event::Connect, &mut fake);
    assert_eq!(fake.log, ["client.destroy"], "a rule fires once");
    run.record("client", &Event::Ready, &mut fake);
    let traces = run.into_traces();
    assert_eq!(
        traces["client"],
        ["connect", "readyState=open", "connect", "ready"]
    );
    assert_eq!(traces["conn"], ["mark:m"]);
}

#[test]
fn the_nth_wait_on_an_event_needs_the_nth_entry() {
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js","steps":[
            {"op":"wait","actor":"client","event":"timeout"},
            {"op":"mark","actor":"client","label":"one"},
            {"op":"wait","actor":"client","event":"timeout"},
            {"op":"mark","actor":"client","label":"two"}],"expected":{}}"#,
    );
    let t0 = Instant::now();
    let mut fake = Fake::default();
    let mut run = ScriptRunner::new(&s, None, t0);
    run.poll(t0, &mut fake);
    run.record("client", &Event::Timeout, &mut fake);
    run.poll(t0, &mut fake);
    run.record("client", &Event::Timeout, &mut fake);
    run.poll(t0, &mut fake);
    assert_eq!(
        run.into_traces()["client"],
        ["timeout", "mark:one", "timeout", "mark:two"]
    );
}

#[test]
fn a_wait_that_times_out_is_recorded_and_skips_the_rest() {
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js","settle_ms":0,"steps":[
            {"op":"wait","actor":"client","event":"connect","timeout_ms":100},
            {"op":"destroy","actor":"client"}],"expected":{}}"#,
    );
    let t0 = Instant::now();
    let mut fake = Fake::default();
    let mut run = ScriptRunner::new(&s, None, t0);
    let d = deadline(run.poll(t0, &mut fake));
    assert_eq!(d, t0 + Duration::from_millis(100));
    assert_eq!(run.poll(d, &mut fake), Poll::Done);
    assert!(fake.log.is_empty());
    assert_eq!(run.into_traces()["runner"], ["timeout:client:connect"]);
}

#[test]
fn sleep_blocks_until_its_deadline() {
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js","steps":[
            {"op":"sleep","ms":30},{"op":"pause","actor":"conn"}],"expected":{}}"#,
    );
    let t0 = Instant::now();
    let mut fake = Fake::default();
    let mut run = ScriptRunner::new(&s, None, t0);
    let d = deadline(run.poll(t0, &mut fake));
    assert_eq!(d, t0 + Duration::from_millis(30));
    assert_eq!(
        deadline(run.poll(t0 + Duration::from_millis(10), &mut fake)),
        d
    );
    assert!(fake.log.is_empty());
    run.poll(d, &mut fake);
    assert_eq!(fake.log, ["conn.pause"]);
}

#[test]
fn throws_blocked_writes_and_property_comparisons_are_recorded() {
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js","steps":[
            {"op":"reset_and_destroy","actor":"client"},
            {"op":"write_until_blocked","actor":"client","chunk_size":4},
            {"op":"assert","actor":"conn","property":"bytesRead","same_as":{"actor":"client","property":"bytesWritten"}},
            {"op":"assert","actor":"conn","property":"bytesWritten","same_as":{"actor":"client","property":"bytesWritten"}},
            {"op":"assert","actor":"server","property":"address","equals":null}],"expected":{}}"#,
    );
    let t0 = Instant::now();
    let mut fake = Fake {
        block_at: 3,
        fail_op: Some("reset_and_destroy"),
        ..Fake::default()
    };
    let mut run = ScriptRunner::new(&s, None, t0);
    run.poll(t0, &mut fake);
    assert_eq!(
        fake.log,
        [
            "client.reset_and_destroy",
            "client.write",
            "client.write",
            "client.write"
        ]
    );
    let traces = run.into_traces();
    assert_eq!(
        traces["client"],
        ["throw:ERR_INVALID_HANDLE_TYPE", "blocked"]
    );
    assert_eq!(
        traces["conn"],
        [
            "bytesRead=client.bytesWritten",
            "bytesWritten=undefined!=client.bytesWritten=42"
        ]
    );
    assert_eq!(traces["server"], ["address=null"]);
}

#[test]
fn accepted_sockets_are_named_in_order() {
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js","steps":[],"expected":{}}"#,
    );
    let mut run = ScriptRunner::new(&s, None, Instant::now());
    assert_eq!(run.accept_name(), "conn");
    assert_eq!(run.accept_name(), "conn2");
    assert_eq!(run.accept_name(), "conn3");
}

#[test]
fn labelled_writes_record_their_return_and_a_failed_end_its_callback() {
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js","steps":[
            {"op":"write","actor":"client","data":"a","cb":"w1"},
            {"op":"write","actor":"client","data":"b","cb":"w2"},
            {"op":"end","actor":"client","cb":"e"}],"expected":{}}"#,
    );
    let t0 = Instant::now();
    let mut fake = Fake {
        block_at: 2,
        fail_op: Some("end"),
        ..Fake::default()
    };
    let mut run = ScriptRunner::new(&s, None, t0);
    run.poll(t0, &mut fake);
    // The driver reports the callbacks themselves later, as events.
    run.record("client", &Event::Callback("w1".into(), None), &mut fake);
    run.record(
        "client",
        &Event::Callback("w2".into(), Some("EPIPE".into())),
        &mut fake,
    );
    let traces = run.into_traces();
    // `end` never throws: its synchronous failure is its callback's error.
    assert_eq!(
        traces["client"],
        [
            "write:w1=true",
            "write:w2=false",
            "cb:e:ERR_INVALID_HANDLE_TYPE",
            "cb:w1:ok",
            "cb:w2:EPIPE"
        ]
    );
}

#[test]
fn a_failed_end_calls_its_callback_on_the_next_tick() {
    // Node: `end(cb)` on a finished stream runs `process.nextTick(cb, err)`, so a write
    // made after it in the same handler is recorded first.
    let s = scenario(
        r#"{"name":"t","description":"","node_test":"test-net-x.js",
            "on":[{"actor":"client","event":"finish","do":[
                {"op":"end","cb":"e"},
                {"op":"write","data":"late","cb":"w"}]}],
            "steps":[{"op":"wait","actor":"client","event":"close"}],"expected":{}}"#,
    );
    let t0 = Instant::now();
    let mut fake = Fake {
        block_at: 1,
        fail_op: Some("end"),
        ..Fake::default()
    };
    let mut run = ScriptRunner::new(&s, None, t0);
    run.poll(t0, &mut fake);
    run.record("client", &Event::Finish, &mut fake);
    run.record("client", &Event::Close(Some(true)), &mut fake);
    let traces = run.into_traces();
    assert_eq!(
        traces["client"],
        [
            "finish",
            "write:w=false",
            "cb:e:ERR_INVALID_HANDLE_TYPE",
            "close:true"
        ]
    );
}
