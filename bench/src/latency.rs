//! Round-trip latency recording with an HDR histogram.
//!
//! Values are recorded in nanoseconds with three significant digits (0.1 % error), from
//! 1 ns to 60 s; anything slower saturates at the top instead of being lost. Each
//! connection records into its own [`LatencyRecorder`] and the recorders are merged at the
//! end, so the hot loop never shares or locks anything.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency the histogram distinguishes (longer ones count as this).
const MAX_NANOS: u64 = 60_000_000_000;

/// A latency histogram for one or more connections.
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    hist: Histogram<u64>,
}

/// The percentiles the report shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Median round trip, microseconds.
    pub p50_us: f64,
    /// 99th-percentile round trip, microseconds.
    pub p99_us: f64,
    /// Slowest round trip, microseconds.
    pub max_us: f64,
    /// Number of round trips recorded.
    pub count: u64,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    /// An empty recorder.
    pub fn new() -> LatencyRecorder {
        // Constant bounds that hdrhistogram documents as valid (low >= 1, high >= 2 * low,
        // sigfig <= 5): this cannot fail, whatever the input.
        let hist = Histogram::new_with_bounds(1, MAX_NANOS, 3).expect("valid constant bounds");
        LatencyRecorder { hist }
    }

    /// Records one round trip.
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.hist.saturating_record(nanos.clamp(1, MAX_NANOS));
    }

    /// Adds every value recorded by `other`.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        // Both histograms share bounds, so addition cannot fail; if it ever did, the
        // values would be re-recorded one bucket at a time.
        if self.hist.add(&other.hist).is_err() {
            for v in other.hist.iter_recorded() {
                self.hist
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }

    /// Number of recorded round trips.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The latency at quantile `q` (0.0 ..= 1.0) in microseconds; 0 when empty.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            return 0.0;
        }
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }

    /// p50, p99 and max in microseconds.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            p50_us: self.quantile_us(0.50),
            p99_us: self.quantile_us(0.99),
            max_us: if self.hist.is_empty() {
                0.0
            } else {
                self.hist.max() as f64 / 1000.0
            },
            count: self.count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.002
    }

    #[test]
    fn percentiles_of_one_to_a_thousand_microseconds() {
        let mut r = LatencyRecorder::new();
        for us in 1..=1000u64 {
            r.record(Duration::from_micros(us));
        }
        let s = r.summary();
        assert_eq!(s.count, 1000);
        assert!(within(s.p50_us, 500.0), "p50 {}", s.p50_us);
        assert!(within(s.p99_us, 990.0), "p99 {}", s.p99_us);
        assert!(within(s.max_us, 1000.0), "max {}", s.max_us);
    }

    #[test]
    fn merge_combines_connections_and_tail_dominates_p99() {
        let mut fast = LatencyRecorder::new();
        let mut slow = LatencyRecorder::new();
        for _ in 0..980 {
            fast.record(Duration::from_micros(20));
        }
        for _ in 0..20 {
            slow.record(Duration::from_millis(5));
        }
        fast.merge(&slow);
        let s = fast.summary();
        assert_eq!(s.count, 1000);
        assert!(within(s.p50_us, 20.0));
        assert!(within(s.p99_us, 5000.0), "p99 {}", s.p99_us);
    }

    #[test]
    fn empty_and_out_of_range_values_do_not_panic() {
        let mut r = LatencyRecorder::new();
        assert_eq!(r.summary().p99_us, 0.0);
        r.record(Duration::ZERO);
        r.record(Duration::from_secs(3600));
        assert_eq!(r.count(), 2);
        assert!(r.summary().max_us >= 59_000_000.0);
    }
}
