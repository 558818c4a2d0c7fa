//! Small statistics over repeated measurements.

/// The median of `values` (mean of the middle two for an even count); `None` when empty
/// or when any value is NaN.
///
/// ```
/// assert_eq!(nodenet_bench::stats::median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(nodenet_bench::stats::median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// assert_eq!(nodenet_bench::stats::median(&[]), None);
/// ```
pub fn median(values: &[f64]) -> Option<f64> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => sorted.get(mid).copied(),
        _ => Some((sorted.get(mid - 1)? + sorted.get(mid)?) / 2.0),
    }
}

/// `value / baseline`, or `None` when the baseline is missing or zero.
///
/// ```
/// assert_eq!(nodenet_bench::stats::ratio(3.0, Some(2.0)), Some(1.5));
/// assert_eq!(nodenet_bench::stats::ratio(3.0, Some(0.0)), None);
/// ```
pub fn ratio(value: f64, baseline: Option<f64>) -> Option<f64> {
    match baseline {
        Some(b) if b != 0.0 && b.is_finite() && value.is_finite() => Some(value / b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_ignores_order_and_rejects_nan() {
        assert_eq!(median(&[10.0, 1.0, 5.0, 7.0, 3.0]), Some(5.0));
        assert_eq!(median(&[7.5]), Some(7.5));
        assert_eq!(median(&[1.0, f64::NAN, 2.0]), None);
    }

    #[test]
    fn ratio_of_missing_baseline_is_none() {
        assert_eq!(ratio(1.0, None), None);
        assert_eq!(ratio(f64::INFINITY, Some(1.0)), None);
        assert_eq!(ratio(1.0, Some(4.0)), Some(0.25));
    }
}
