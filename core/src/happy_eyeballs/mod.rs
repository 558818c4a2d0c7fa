//! Happy eyeballs (`autoSelectFamily`, §5): one pure planner that a socket drives when a
//! host name resolves to several addresses. It owns the candidate order, the attempt
//! timer, attempt ids, error recording and the outcome; the socket owns the lookup, the
//! `lookup` events, its handle and its idle timer.
//!
//! Two modes ([`Mode`]): `NodeCompat` (default) is Node v20's sequential
//! abort-and-advance; `Rfc8305` staggers attempts and keeps earlier ones racing.
//!
//! # Plugging it into a socket
//!
//! 1. Before the lookup: [`uses_auto_select_family`]`(family, local_address,
//!    auto_select_family)` (for a non-IP host) decides between `lookup(all: true)` and the
//!    single lookup. Read the attempt timeout with [`attempt_timeout_option`].
//! 2. After the lookup: emit one `lookup` event per entry, then
//!    [`sort_candidates`]`(&entries, host, port)`: `Err` → destroy with it (next tick);
//!    `Single(c)` → the plain connect path; `Multiple(list)` → [`Planner::start`].
//! 3. Drain [`Planner::poll_action`] after every input: `Bind`/`Connect`/`Abort` become
//!    the socket's backend commands (keyed by [`AttemptId`](crate::AttemptId));
//!    `ConnectionAttempt*` become the socket's events; `Connected { id, .. }` → adopt that
//!    attempt's handle and continue as a connected socket; `Failed(err)` → destroy with
//!    `err`. Nothing follows `Connected`/`Failed`.
//! 4. Feed answers with [`Planner::handle_attempt_bound`] (only after a `Bind`) and
//!    [`Planner::handle_attempt_result`]; include [`Planner::poll_timeout`] in the socket's
//!    deadline and call [`Planner::handle_timeout`] when it passes.
//! 5. `destroy()` while connecting → [`Planner::cancel`].
//! 6. `autoSelectFamilyAttemptedAddresses` = [`Planner::attempted_addresses`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use nodenet_core::happy_eyeballs::*;
//! use nodenet_core::{ErrorCode, LookupAddress};
//!
//! let t0 = Instant::now();
//! let found = [LookupAddress::new("127.0.0.1", 4), LookupAddress::new("::1", 6)];
//! let Candidates::Multiple(list) = sort_candidates(&found, "localhost", 8080).unwrap() else {
//!     unreachable!()
//! };
//! let mut opts = PlannerOptions::new(8080);
//! opts.attempt_timeout_ms = 100;
//! let mut planner = Planner::start(opts, list, t0);
//! assert!(matches!(planner.poll_action(), Some(Action::ConnectionAttempt { .. })));
//! let Some(Action::Connect { id: first, .. }) = planner.poll_action() else { unreachable!() };
//!
//! // 127.0.0.1 hangs: after 100 ms it is aborted and ::1 is tried.
//! let deadline = planner.poll_timeout().unwrap();
//! assert_eq!(deadline, t0 + Duration::from_millis(100));
//! planner.handle_timeout(deadline);
//! assert!(matches!(planner.poll_action(), Some(Action::ConnectionAttemptTimeout { .. })));
//! assert_eq!(planner.poll_action(), Some(Action::Abort { id: first }));
//! assert!(matches!(planner.poll_action(), Some(Action::ConnectionAttempt { .. })));
//! let Some(Action::Connect { id: second, .. }) = planner.poll_action() else { unreachable!() };
//! assert_eq!(planner.poll_timeout(), None); // no timer on the last attempt
//!
//! planner.handle_attempt_result(second, Ok(()), deadline);
//! assert!(matches!(planner.poll_action(), Some(Action::Connected { .. })));
//! assert_eq!(planner.attempted_addresses(), ["127.0.0.1:8080", "::1:8080"]);
//! // A late answer from the abandoned attempt changes nothing.
//! planner.handle_attempt_result(first, Err(ErrorCode::ECONNREFUSED), deadline);
//! assert_eq!(planner.poll_action(), None);
//! ```

mod candidates;
mod planner;

pub(crate) use candidates::sort_candidates_owned;
pub use candidates::{
    attempt_timeout_option, sort_candidates, uses_auto_select_family, Candidate, Candidates,
};
pub use planner::{Action, Mode, Planner, PlannerOptions};
