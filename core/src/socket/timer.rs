//! The idle timer behind `socket.setTimeout(ms)` (§2 rule 17): armed by `set_timeout`,
//! refreshed by connect progress, every read and every write dispatch and completion;
//! fires once per idle period and stays quiet until the next activity re-arms it.

use std::time::{Duration, Instant};

/// Idle-timeout state. Time only ever comes in as an argument.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdleTimer {
    /// The period; `None` = disabled (never set, or `setTimeout(0)`).
    period: Option<Duration>,
    /// When it fires next; `None` after it fired until the next activity.
    deadline: Option<Instant>,
}

impl IdleTimer {
    /// An idle period is set (`setTimeout(ms > 0)`).
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.period.is_some()
    }

    /// `setTimeout(ms)` after validation: 0 disables, anything else (re)arms from `now`.
    /// Node's timers treat periods under 1 ms as 1 ms.
    pub(crate) fn set(&mut self, ms: f64, now: Instant) {
        if ms == 0.0 {
            self.period = None;
            self.deadline = None;
        } else {
            let period = Duration::from_secs_f64(ms.max(1.0) / 1000.0);
            self.period = Some(period);
            self.deadline = now.checked_add(period);
        }
    }

    /// Activity: push the deadline one period past `now` (also re-arms after a fire).
    #[inline]
    pub(crate) fn refresh(&mut self, now: Instant) {
        if let Some(p) = self.period {
            self.deadline = now.checked_add(p);
        }
    }

    /// Stop for good (destroy); the period is kept, so a reconnect's activity re-arms.
    pub(crate) fn clear(&mut self) {
        self.deadline = None;
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// True once when `now` has reached the deadline; the timer then waits for activity.
    pub(crate) fn expire(&mut self, now: Instant) -> bool {
        match self.deadline {
            Some(d) if d <= now => {
                self.deadline = None;
                true
            }
            _ => false,
        }
    }
}
