//! The process-wide autoSelectFamily defaults (§5.1) as the planner reads them. One test
//! only, because it changes process-wide state.

use std::time::{Duration, Instant};

use nodenet_core::happy_eyeballs::{attempt_timeout_option, Candidate, Planner, PlannerOptions};
use nodenet_core::{
    get_default_auto_select_family, get_default_auto_select_family_attempt_timeout,
    set_default_auto_select_family, set_default_auto_select_family_attempt_timeout, ErrorCode,
};

#[test]
fn defaults_feed_the_planner() {
    assert!(get_default_auto_select_family());
    assert_eq!(get_default_auto_select_family_attempt_timeout(), 250);
    assert_eq!(attempt_timeout_option(None).unwrap(), 250);
    assert_eq!(PlannerOptions::new(80).attempt_timeout_ms, 250);

    let e = set_default_auto_select_family_attempt_timeout(0).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_OUT_OF_RANGE);
    assert_eq!(
        e.message(),
        "The value of \"value\" is out of range. It must be >= 1 && <= 2147483647. Received 0"
    );
    // Values under 10 are stored as 10, and new connects pick that up.
    set_default_auto_select_family_attempt_timeout(5).unwrap();
    assert_eq!(get_default_auto_select_family_attempt_timeout(), 10);
    assert_eq!(attempt_timeout_option(None).unwrap(), 10);
    let t0 = Instant::now();
    let p = Planner::start(
        PlannerOptions::new(80),
        vec![Candidate::new("127.0.0.1", 4), Candidate::new("::1", 6)],
        t0,
    );
    assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_millis(10)));

    set_default_auto_select_family_attempt_timeout(250).unwrap();
    set_default_auto_select_family(false);
    assert!(!get_default_auto_select_family());
    set_default_auto_select_family(true);
}
