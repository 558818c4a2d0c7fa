//! Trace comparison with a readable, per-actor line diff.
use std::fmt;

use crate::trace::Traces;

/// The traces of one run differ from the expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceMismatch {
    /// One entry per actor whose trace differs (actors missing on one side count as empty).
    pub actors: Vec<ActorDiff>,
}

/// The diff of one actor's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorDiff {
    /// The actor.
    pub actor: String,
    /// Lines: `  entry` (both), `- entry` (expected only), `+ entry` (actual only).
    pub lines: Vec<String>,
}

impl fmt::Display for TraceMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "traces differ (- expected, + actual):")?;
        for actor in &self.actors {
            writeln!(f, "  [{}]", actor.actor)?;
            for line in &actor.lines {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for TraceMismatch {}

/// Compare traces; missing actors equal empty traces.
///
/// ```
/// use nodenet_tests::{compare, Traces};
/// let mut expected = Traces::new();
/// expected.insert("client".into(), vec!["connect".into(), "close:false".into()]);
/// let mut actual = expected.clone();
/// assert!(compare(&expected, &actual).is_ok());
/// actual.insert("client".into(), vec!["connect".into(), "close:true".into()]);
/// let diff = compare(&expected, &actual).unwrap_err().to_string();
/// assert!(diff.contains("- close:false") && diff.contains("+ close:true"));
/// ```
pub fn compare(expected: &Traces, actual: &Traces) -> Result<(), TraceMismatch> {
    let empty = Vec::new();
    let mut actors: Vec<&String> = expected.keys().chain(actual.keys()).collect();
    actors.sort();
    actors.dedup();
    let mut diffs = Vec::new();
    for actor in actors {
        let e = expected.get(actor).unwrap_or(&empty);
        let a = actual.get(actor).unwrap_or(&empty);
        if e != a {
            diffs.push(ActorDiff {
                actor: actor.clone(),
                lines: line_diff(e, a),
            });
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(TraceMismatch { actors: diffs })
    }
}

/// A longest-common-subsequence line diff (traces are short).
fn line_diff(expected: &[String], actual: &[String]) -> Vec<String> {
    let (n, m) = (expected.len(), actual.len());
    // lcs[i][j] = LCS length of expected[i..] and actual[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            out.push(format!("  {}", expected[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+ {}", actual[j]));
            j += 1;
        } else {
            out.push(format!("- {}", expected[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traces(pairs: &[(&str, &[&str])]) -> Traces {
        pairs
            .iter()
            .map(|(a, t)| (a.to_string(), t.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn diff_shows_missing_extra_and_common_lines_in_order() {
        let e = traces(&[("client", &["connect", "ready", "end", "close:false"])]);
        let a = traces(&[("client", &["connect", "end", "finish", "close:false"])]);
        let err = compare(&e, &a).unwrap_err();
        assert_eq!(
            err.actors[0].lines,
            ["  connect", "- ready", "  end", "+ finish", "  close:false"]
        );
    }

    #[test]
    fn a_missing_actor_counts_as_empty() {
        let e = traces(&[("conn", &[])]);
        let a = Traces::new();
        assert!(compare(&e, &a).is_ok());
        let e = traces(&[("conn", &["end"])]);
        let err = compare(&e, &a).unwrap_err();
        assert_eq!(err.actors[0].actor, "conn");
        assert_eq!(err.actors[0].lines, ["- end"]);
    }
}
