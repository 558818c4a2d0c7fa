//! The Node v20 driver: runs `tests/node/runner.js` with the system `node`.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::driver::{DriverError, ScenarioDriver};
use crate::scenario::{Scenario, Target};
use crate::trace::Traces;

/// Runs scenarios on real Node through the JavaScript runner kept in the repo. The
/// scenario is passed on stdin as re-serialised JSON, so a field the Rust model drops
/// would show up as a trace difference.
#[derive(Debug, Clone)]
pub struct NodeDriver {
    node: PathBuf,
    runner: PathBuf,
}

impl NodeDriver {
    /// A driver using `node` from `PATH` and this crate's `node/runner.js`.
    pub fn new() -> NodeDriver {
        NodeDriver {
            node: PathBuf::from("node"),
            runner: Path::new(env!("CARGO_MANIFEST_DIR")).join("node/runner.js"),
        }
    }

    /// `node --version`, or an error when Node is not installed.
    pub fn version(&self) -> Result<String, DriverError> {
        let out = Command::new(&self.node)
            .arg("--version")
            .output()
            .map_err(|e| DriverError(format!("cannot run `{}`: {e}", self.node.display())))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

impl Default for NodeDriver {
    fn default() -> NodeDriver {
        NodeDriver::new()
    }
}

#[derive(serde::Deserialize)]
struct RunnerOutput {
    traces: Traces,
}

impl ScenarioDriver for NodeDriver {
    fn name(&self) -> &str {
        "node"
    }

    fn target(&self) -> Target {
        Target::Node
    }

    fn run(&mut self, scenario: &Scenario) -> Result<Traces, DriverError> {
        let json = serde_json::to_string(scenario)
            .map_err(|e| DriverError(format!("cannot serialise the scenario: {e}")))?;
        let mut child = Command::new(&self.node)
            .arg(&self.runner)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| DriverError(format!("cannot run `{}`: {e}", self.node.display())))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(json.as_bytes())
                .map_err(|e| DriverError(format!("cannot feed the runner: {e}")))?;
        }
        // The runner bounds itself (10 s hard limit), so waiting cannot hang.
        let out = child
            .wait_with_output()
            .map_err(|e| DriverError(format!("runner failed: {e}")))?;
        if !out.status.success() {
            return Err(DriverError(format!(
                "runner exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let parsed: RunnerOutput = serde_json::from_slice(&out.stdout).map_err(|e| {
            DriverError(format!(
                "runner printed invalid JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            ))
        })?;
        Ok(parsed.traces)
    }
}
