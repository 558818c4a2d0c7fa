//! Process-wide defaults that Node keeps as module state: `autoSelectFamily` and its
//! attempt timeout (`net.getDefaultAutoSelectFamily()` and friends, §5.1).
//!
//! They are atomics so the core stays free of locks; a socket reads them once, when
//! `connect` is called, exactly as Node does.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::error::Result;
use crate::validate::{validate_int32, NumberArg};

static AUTO_SELECT_FAMILY: AtomicBool = AtomicBool::new(true);
static AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT: AtomicU32 = AtomicU32::new(250);

/// The smallest attempt timeout Node honours; smaller values are stored as this.
pub const MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT: u32 = 10;

/// `net.getDefaultAutoSelectFamily()`: `true` unless changed (Node v20).
pub fn get_default_auto_select_family() -> bool {
    AUTO_SELECT_FAMILY.load(Ordering::Relaxed)
}

/// `net.setDefaultAutoSelectFamily(value)`.
pub fn set_default_auto_select_family(value: bool) {
    AUTO_SELECT_FAMILY.store(value, Ordering::Relaxed);
}

/// `net.getDefaultAutoSelectFamilyAttemptTimeout()`: 250 ms unless changed.
pub fn get_default_auto_select_family_attempt_timeout() -> u32 {
    AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT.load(Ordering::Relaxed)
}

/// `net.setDefaultAutoSelectFamilyAttemptTimeout(value)`: an int32 `>= 1`
/// (`ERR_OUT_OF_RANGE` otherwise); values under 10 are stored as 10.
///
/// ```
/// use nodenet_core::*;
/// assert_eq!(
///     set_default_auto_select_family_attempt_timeout(0).unwrap_err().code(),
///     ErrorCode::ERR_OUT_OF_RANGE
/// );
/// ```
pub fn set_default_auto_select_family_attempt_timeout(value: impl Into<NumberArg>) -> Result<()> {
    let v = validate_int32(value.into(), "value", 1, i32::MAX as i64)?;
    let v = (v as u32).max(MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT);
    AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT.store(v, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    // One test touches the globals so parallel tests do not race on them.
    #[test]
    fn defaults_and_validation() {
        assert!(get_default_auto_select_family());
        assert_eq!(get_default_auto_select_family_attempt_timeout(), 250);
        let e = set_default_auto_select_family_attempt_timeout(0).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ERR_OUT_OF_RANGE);
        assert!(e.message().ends_with(">= 1 && <= 2147483647. Received 0"));
        let e = set_default_auto_select_family_attempt_timeout(1.5).unwrap_err();
        assert!(e.message().contains("an integer"));
        set_default_auto_select_family_attempt_timeout(5).unwrap();
        assert_eq!(get_default_auto_select_family_attempt_timeout(), 10);
        set_default_auto_select_family_attempt_timeout(250).unwrap();
        set_default_auto_select_family(false);
        assert!(!get_default_auto_select_family());
        set_default_auto_select_family(true);
    }
}
