//! Static checks of scenario files: what can be verified without running anything, so a
//! hand-edited scenario cannot silently contradict its own recording.
use crate::scenario::{DifferenceKind, Op, ScenarioFile, Target};
use crate::trace::PropertyValue;

/// The nodenet runtimes a known divergence can name.
pub const RUNTIMES: [&str; 4] = ["tokio", "smol", "std", "sim"];

/// Every problem found in one scenario file (empty = consistent):
///
/// * the name equals the file stem;
/// * every actor a step or rule names is declared (servers, clients) or is an accepted
///   socket (`conn`, `conn2`, ...);
/// * every `assert` with `equals` shows up as `<property>=<value>` in the trace it applies
///   to (Node's for ordinary asserts, nodenet's for Rust-only ones);
/// * a Rust-only difference only adds `sockopt.*` entries to Node's trace;
/// * a newer-Node difference says which version;
/// * the recording holds no runner failure (`runner` actor);
/// * it names the Node test it is ported from (`test-net-*.js`, or the related
///   `test-socket-*.js` or `test-pipe-*.js`; `sequential/` in front for a test of Node's
///   `test/sequential/`);
/// * each known divergence names its issue item, only known runtimes, runtimes no other
///   divergence of the scenario claims, and traces that really differ from the conforming
///   ones.
pub fn problems(file: &ScenarioFile) -> Vec<String> {
    let s = &file.scenario;
    let mut out = Vec::new();
    let stem = file.path.file_stem().and_then(|x| x.to_str()).unwrap_or("");
    if stem != s.name {
        out.push(format!(
            "name {:?} differs from the file stem {stem:?}",
            s.name
        ));
    }
    let known = |actor: &str| {
        s.servers.contains_key(actor)
            || s.clients.contains_key(actor)
            || actor == "conn"
            || actor
                .strip_prefix("conn")
                .is_some_and(|n| n.parse::<u32>().is_ok())
    };
    for rule in &s.on {
        if !known(&rule.actor) {
            out.push(format!("rule on unknown actor {:?}", rule.actor));
        }
    }
    for step in &s.steps {
        match (&step.actor, &step.op) {
            (None, Op::Sleep { .. }) => {}
            (None, op) => out.push(format!("step {op:?} names no actor")),
            (Some(actor), _) if !known(actor) => {
                out.push(format!("step on unknown actor {actor:?}"))
            }
            _ => {}
        }
    }
    let node = s.expected_for(Target::Node);
    let nodenet = s.expected_for(Target::Nodenet);
    let rule_actor = |step: &crate::scenario::Step| {
        step.actor.clone().or_else(|| {
            s.on.iter()
                .find(|r| r.actions.contains(step))
                .map(|r| r.actor.clone())
        })
    };
    for step in s.all_steps() {
        if let Op::Assert {
            property,
            equals: Some(value),
            rust_only,
            ..
        } = &step.op
        {
            let Some(actor) = rule_actor(step) else {
                continue;
            };
            let entry = format!("{property}={}", PropertyValue::render_json(value));
            let traces = if *rust_only { &nodenet } else { &node };
            if !traces.get(&actor).is_some_and(|t| t.contains(&entry)) {
                out.push(format!(
                    "assert {entry:?} on {actor} is not in the expected trace"
                ));
            }
        }
    }
    for d in &s.differences {
        match d.kind {
            DifferenceKind::RustOnly => {
                for (actor, trace) in &d.expected {
                    let stripped: Vec<&String> = trace
                        .iter()
                        .filter(|e| !e.starts_with("sockopt."))
                        .collect();
                    let recorded: Vec<&String> = node
                        .get(actor)
                        .map(|t| t.iter().collect())
                        .unwrap_or_default();
                    if stripped != recorded {
                        out.push(format!(
                            "rust_only difference for {actor} changes more than sockopt entries"
                        ));
                    }
                }
            }
            DifferenceKind::NewerNode if d.node_version.is_none() => {
                out.push("newer_node difference without node_version".to_owned());
            }
            _ => {}
        }
    }
    if !is_node_test_name(&s.node_test) {
        out.push(format!(
            "node_test {:?} is not a test-net-*.js, test-socket-*.js or test-pipe-*.js file name (optionally under sequential/)",
            s.node_test
        ));
    }
    let mut claimed: Vec<&str> = Vec::new();
    for k in &s.known_divergences {
        if k.issue.trim().is_empty() || k.reason.trim().is_empty() {
            out.push("known divergence without issue or reason".to_owned());
        }
        let runtimes: Vec<&str> = if k.runtimes.is_empty() {
            RUNTIMES.to_vec()
        } else {
            k.runtimes.iter().map(String::as_str).collect()
        };
        for r in runtimes {
            if !RUNTIMES.contains(&r) {
                out.push(format!(
                    "known divergence {} names unknown runtime {r:?}",
                    k.issue
                ));
            } else if claimed.contains(&r) {
                out.push(format!("two known divergences claim runtime {r}"));
            } else {
                claimed.push(r);
            }
            if s.expected_on(r) == nodenet {
                out.push(format!(
                    "known divergence {} does not change the expectation on {r}",
                    k.issue
                ));
            }
        }
    }
    if s.expected.contains_key("runner") {
        out.push(format!(
            "the recording holds runner failures: {:?}",
            s.expected["runner"]
        ));
    }
    out
}

/// Whether `name` names a Node test a scenario can be ported from: `test-net-*.js` or
/// the related `test-socket-*.js` and `test-pipe-*.js` of Node's `test/parallel/`, or
/// the same under `sequential/`.
fn is_node_test_name(name: &str) -> bool {
    let file = name.strip_prefix("sequential/").unwrap_or(name);
    ["test-net-", "test-socket-", "test-pipe-"]
        .iter()
        .any(|prefix| file.starts_with(prefix))
        && file.ends_with(".js")
}
