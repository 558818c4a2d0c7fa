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

/// A distribution-free confidence interval for the median of `values`: the `k`-th smallest
/// and `k`-th largest value, with `k` as large as keeps the coverage at or above
/// `confidence`.
///
/// The median of `n` independent measurements lies between the `k`-th smallest and `k`-th
/// largest with probability `1 - 2·P(Binomial(n, ½) < k)`, whatever their distribution;
/// that is why no normality is assumed of noisy benchmark rounds. `None` when fewer values
/// than needed for `confidence` (5 for 0.9: with four, even the full range covers only
/// 87.5%), or when any value is NaN.
///
/// ```
/// use nodenet_bench::stats::median_interval;
/// // Five rounds: the full range covers the median with probability 93.75%.
/// assert_eq!(median_interval(&[1.2, 0.8, 1.0, 1.5, 0.9], 0.9), Some((0.8, 1.5)));
/// // Nine: dropping one value from each end still covers 96.1%.
/// let nine = [9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0];
/// assert_eq!(median_interval(&nine, 0.9), Some((2.0, 8.0)));
/// assert_eq!(median_interval(&[1.0, 2.0, 3.0, 4.0], 0.9), None);
/// ```
pub fn median_interval(values: &[f64], confidence: f64) -> Option<(f64, f64)> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let n = values.len();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // P(Binomial(n, 1/2) < k), accumulated k by k; exact enough in f64 for any count a
    // benchmark runs (the terms are n-choose-i / 2^n, built as a running product).
    let mut below_k = 0.0_f64;
    let mut term = 0.5_f64.powi(i32::try_from(n).ok()?);
    let mut best = None;
    for k in 1..=n / 2 {
        // term is P(X = k - 1) here.
        below_k += term;
        if 1.0 - 2.0 * below_k < confidence {
            break;
        }
        best = Some(k);
        term *= (n - (k - 1)) as f64 / k as f64;
    }
    let k = best?;
    Some((*sorted.get(k - 1)?, *sorted.get(n - k)?))
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
    fn median_interval_coverage_follows_the_binomial() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        // n = 20: P(X < 6) = 0.0207, so k = 6 covers 95.9% and k = 7 only 88.5%.
        assert_eq!(median_interval(&v, 0.9), Some((6.0, 15.0)));
        // 0.95 still allows k = 6; 0.99 needs k = 4 (98.7% at k = 5 is too little).
        assert_eq!(median_interval(&v, 0.95), Some((6.0, 15.0)));
        assert_eq!(median_interval(&v, 0.99), Some((4.0, 17.0)));
        // Seven rounds: k = 2 covers 87.5% < 90%, so the full range (98.4%).
        let seven = [3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0];
        assert_eq!(median_interval(&seven, 0.9), Some((1.0, 9.0)));
        assert_eq!(median_interval(&[], 0.9), None);
        assert_eq!(median_interval(&[1.0; 5], 0.99), None);
        assert_eq!(median_interval(&[1.0, f64::NAN, 2.0, 3.0, 4.0], 0.9), None);
    }

    #[test]
    fn ratio_of_missing_baseline_is_none() {
        assert_eq!(ratio(1.0, None), None);
        assert_eq!(ratio(f64::INFINITY, Some(1.0)), None);
        assert_eq!(ratio(1.0, Some(4.0)), Some(0.25));
    }
}
