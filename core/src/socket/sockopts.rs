//! `setTimeout`, `setNoDelay` and `setKeepAlive` (§2 rule 17, §4.3): validated, stored
//! before the connection exists and applied at connect, re-applied only when changed.

use std::time::Instant;

use crate::error::Result;
use crate::options::keep_alive_secs_from_ms;
use crate::validate::{validate_timer_duration, NumberArg};

use super::events::Command;
use super::state::HandleKind;
use super::Socket;

impl Socket {
    /// `socket.setTimeout(msecs)`: emit `Timeout` after `msecs` of inactivity (0
    /// disables). `ERR_OUT_OF_RANGE` for negative, NaN or infinite values — the value is
    /// stored in [`timeout`](Socket::timeout) first, as Node does. No-op once destroyed.
    pub fn set_timeout(&mut self, msecs: impl Into<NumberArg>, now: Instant) -> Result<()> {
        self.last_now = Some(now);
        if self.destroyed {
            return Ok(());
        }
        let raw = msecs.into();
        self.timeout_value = Some(raw.0);
        let ms = validate_timer_duration(raw, "msecs")?;
        self.timer.set(ms, now);
        Ok(())
    }

    /// `socket.setNoDelay(enable)` (Node's `setNoDelay()` is `set_no_delay(true)`).
    /// Stored until connected; afterwards a [`Command::SetNoDelay`] only when the value
    /// changes. Ignored for IPC sockets.
    pub fn set_no_delay(&mut self, enable: bool) {
        if self.is_open() && self.handle == Some(HandleKind::Tcp) {
            if enable != self.no_delay {
                self.no_delay = enable;
                self.commands.push_back(Command::SetNoDelay(enable));
            }
        } else {
            self.no_delay = enable;
        }
    }

    /// `socket.setKeepAlive(enable, initialDelay)`: delay in ms, applied as whole seconds
    /// (negative → 0). Stored until connected (applied then if enabled); afterwards a
    /// [`Command::SetKeepAlive`] when `enable` changes or, enabled, the delay changes.
    pub fn set_keep_alive(&mut self, enable: bool, initial_delay_ms: impl Into<NumberArg>) {
        let secs = keep_alive_secs_from_ms(initial_delay_ms.into().0);
        let open = self.is_open() && self.handle == Some(HandleKind::Tcp);
        let changed = enable != self.keep_alive || (enable && secs != self.keep_alive_secs);
        if !open || changed {
            self.keep_alive = enable;
            self.keep_alive_secs = secs;
        }
        if open && changed {
            self.commands.push_back(Command::SetKeepAlive {
                enable,
                initial_delay_secs: secs,
            });
        }
    }
}
