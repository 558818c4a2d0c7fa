//! `nodenet-tests`: the conformance, differential and backend test suites of nodenet.
//!
//! * **Scenarios** ([`scenario`]): JSON files in `tests/scenarios/`, each a client/server
//!   script (listen, connect, write, end, destroy, waits, reactive rules, property
//!   snapshots) with the per-actor event traces Node v20 printed for it (`expected`) and
//!   the documented places where nodenet deliberately differs (`differences`).
//! * **Traces** ([`trace`]): normalised entries (`connect`, `data:hello`, `error:ECONNRESET`,
//!   `close:false`, ...), consecutive data merged, no ports, temporary paths as `<tmp>`;
//!   compared with a per-actor line diff ([`compare()`]).
//! * **Drivers** ([`driver`]): [`ScenarioDriver`] runs a whole scenario and returns traces.
//!   [`NodeDriver`] runs `tests/node/runner.js` on Node (the differential suite,
//!   `tests/tests/node_differential.rs`); [`drivers::NetDriver`] (every real runtime) and
//!   the simulator implement the same trait on top of the IO-free interpreter
//!   [`ScriptRunner`] ([`script`]) and are held to [`Target::Nodenet`].
//! * **Backend suites** ([`suite`]): loopback, options, EMFILE, soak, flood, load and hostile-traffic tests, each a
//!   plain `async fn name<R: TestRuntime>()` run on every runtime through
//!   [`test_runtime::TestRuntime`] and [`harness`]; one test binary per suite and runtime
//!   (`tests/tests/<suite>_<runtime>.rs`).
//!
//! ```
//! use nodenet_tests::{load_dir, scenarios_dir, Target};
//! let files = load_dir(&scenarios_dir()).unwrap();
//! let zero = files.iter().find(|f| f.scenario.name == "max_connections_zero").unwrap();
//! // Node v20 accepts with maxConnections = 0; nodenet follows v21+ and drops.
//! assert!(zero.scenario.expected_for(Target::Node)["server"].contains(&"connection".to_string()));
//! assert!(zero.scenario.expected_for(Target::Nodenet)["server"].contains(&"drop".to_string()));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod compare;
pub mod consistency;
pub mod driver;
pub mod drivers;
pub mod harness;
pub mod node;
#[cfg(doctest)]
mod readme;
pub mod scenario;
pub mod script;
pub mod suite;
pub mod test_runtime;
pub mod trace;

pub use compare::{compare, ActorDiff, TraceMismatch};
pub use driver::{check, DriverError, Failure, ScenarioDriver};
pub use node::NodeDriver;
pub use scenario::{
    load_dir, load_file, scenarios_dir, BlockRule, ClientSpec, ConnectSpec, Difference,
    DifferenceKind, KnownDivergence, ListenSpec, LoadError, LookupAnswer, Op, PropertyRef, Rule,
    Scenario, ScenarioFile, ServerOptions, ServerSpec, Step, Target,
};
pub use script::{Actors, Poll, ScriptRunner};
pub use trace::{entry_matches, Event, PropertyValue, TraceRecorder, Traces};
