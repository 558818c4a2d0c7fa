//! One-way latency distributions for the simulated links, drawn from the seed.

use std::time::Duration;

use crate::rng::Rng;

/// How long a segment takes from one host to another.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// Always this long.
    Fixed(Duration),
    /// Uniform between the two bounds (inclusive).
    Uniform(Duration, Duration),
    /// `min` plus an exponentially distributed delay of mean `mean`, capped at
    /// `min + 20 × mean`: mostly fast, with a tail.
    Exponential {
        /// The floor.
        min: Duration,
        /// The mean of the exponential part.
        mean: Duration,
    },
    /// With probability `per_mille / 1000` the `slow` distribution, else the `fast` one
    /// (both uniform): a path that is sometimes congested.
    Bimodal {
        /// The usual range.
        fast: (Duration, Duration),
        /// The congested range.
        slow: (Duration, Duration),
        /// How often (per mille) a segment is slow.
        per_mille: u32,
    },
}

fn uniform(rng: &mut Rng, lo: Duration, hi: Duration) -> Duration {
    if hi <= lo {
        return lo;
    }
    let span = hi - lo;
    // The span in nanoseconds without 128-bit arithmetic (saturating, as before).
    let span = span
        .as_secs()
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(u64::from(span.subsec_nanos())))
        .unwrap_or(u64::MAX);
    lo + Duration::from_nanos(rng.below(span.saturating_add(1)))
}

impl Latency {
    /// Every draw is zero (and draws nothing from the generator): a loopback without
    /// fault latency.
    pub(crate) fn always_zero(&self) -> bool {
        match *self {
            Latency::Fixed(d) => d.is_zero(),
            Latency::Uniform(lo, hi) => lo.is_zero() && hi <= lo,
            _ => false,
        }
    }

    /// One draw.
    pub fn draw(&self, rng: &mut Rng) -> Duration {
        match *self {
            Latency::Fixed(d) => d,
            Latency::Uniform(lo, hi) => uniform(rng, lo, hi),
            Latency::Exponential { min, mean } => {
                // Inverse CDF on a 53-bit uniform in (0, 1].
                let u = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
                let factor = (-u.ln()).min(20.0);
                min + mean.mul_f64(factor)
            }
            Latency::Bimodal {
                fast,
                slow,
                per_mille,
            } => {
                let (lo, hi) = if rng.chance(per_mille) { slow } else { fast };
                uniform(rng, lo, hi)
            }
        }
    }
}

/// A distribution ready to draw from: a `Uniform` whose span is under a second keeps its
/// floor and its span in nanoseconds, so that a draw is one multiply-shift and one
/// addition (the very same draws as [`Latency::draw`]: the kernel draws a latency per
/// segment).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared {
    latency: Latency,
    /// `Uniform(lo, hi)` as `(lo, span + 1)`, `span` in nanoseconds (`< 10^9`).
    uniform: Option<(Duration, u64)>,
}

impl Prepared {
    pub(crate) fn new(latency: Latency) -> Prepared {
        let uniform = match latency {
            Latency::Uniform(lo, hi) if hi > lo && hi - lo < Duration::from_secs(1) => {
                Some((lo, u64::from((hi - lo).subsec_nanos()) + 1))
            }
            _ => None,
        };
        Prepared { latency, uniform }
    }

    /// One draw (as `Latency::draw`).
    pub(crate) fn draw(&self, rng: &mut Rng) -> Duration {
        match self.uniform {
            // `below(n) < n <= 10^9`: a valid nanosecond count, as `Duration::from_nanos`
            // of it is.
            Some((lo, n)) => lo + Duration::new(0, rng.below(n) as u32),
            None => self.latency.draw(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prepared distribution draws exactly what the distribution draws.
    #[test]
    fn prepared_draws_are_the_same_draws() {
        let us = Duration::from_micros;
        for latency in [
            Latency::Uniform(us(100), us(5000)),
            Latency::Uniform(us(0), us(1)),
            Latency::Uniform(us(7), us(7)),
            Latency::Uniform(us(1), Duration::from_secs(3)),
            Latency::Fixed(us(3)),
        ] {
            let prepared = Prepared::new(latency);
            let (mut a, mut b) = (Rng::new(9), Rng::new(9));
            for _ in 0..1000 {
                assert_eq!(prepared.draw(&mut a), latency.draw(&mut b), "{latency:?}");
            }
        }
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let ms = Duration::from_millis;
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            assert_eq!(Latency::Fixed(ms(2)).draw(&mut rng), ms(2));
            let u = Latency::Uniform(ms(1), ms(3)).draw(&mut rng);
            assert!(u >= ms(1) && u <= ms(3));
            let e = Latency::Exponential {
                min: ms(1),
                mean: ms(2),
            }
            .draw(&mut rng);
            assert!(e >= ms(1) && e <= ms(41));
        }
        let mut slow = 0;
        for _ in 0..1000 {
            let b = Latency::Bimodal {
                fast: (ms(1), ms(2)),
                slow: (ms(100), ms(200)),
                per_mille: 100,
            }
            .draw(&mut rng);
            if b >= ms(100) {
                slow += 1;
            }
        }
        assert!((50..200).contains(&slow), "{slow}");
    }
}
