//! Which faults the fake kernel injects and how often. [`Faults::calm`] is a reliable
//! network that still varies latency, read chunking and short writes (what a protocol
//! must tolerate anyway); [`Faults::swarm`] lets the seed switch each kind of fault on or
//! off and pick its rate ("swarm testing": different seeds stress different mixes, which
//! finds more bugs than every fault at a low rate everywhere).

use std::time::Duration;

use super::rng::Rng;

/// Fault kinds and rates. Rates are per mille (0 = never, 1000 = always).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Faults {
    /// One-way latency range for connects, data, FIN and RST.
    pub latency: (Duration, Duration),
    /// Reads deliver a random prefix of what arrived instead of whole chunks.
    pub chunking: u32,
    /// A write syscall takes only part of what it was offered.
    pub short_writes: u32,
    /// Per-direction kernel buffer (send + receive) in bytes: writes block when full.
    pub buffer: usize,
    /// A connect to a listening port is refused anyway.
    pub refuse: u32,
    /// A connect is never answered (the kernel gives up after 127 s, as Linux does).
    pub black_hole: u32,
    /// An established connection is reset at a random point (both ends get an RST).
    pub reset: u32,
    /// An `accept` starts a period (1–600 ms) in which the host's descriptors are
    /// exhausted and every `accept` fails with `EMFILE` (the connections stay queued).
    pub accept_emfile: u32,
    /// Every IPv6 connect fails with `ENETUNREACH` (a broken IPv6 path).
    pub ipv6_broken: bool,
}

impl Faults {
    /// No faults at all and zero latency: the same schedule as a loopback with infinite
    /// buffers (useful to read a trace).
    pub fn none() -> Faults {
        Faults {
            latency: (Duration::ZERO, Duration::ZERO),
            chunking: 0,
            short_writes: 0,
            buffer: 1 << 20,
            refuse: 0,
            black_hole: 0,
            reset: 0,
            accept_emfile: 0,
            ipv6_broken: false,
        }
    }

    /// A reliable network: latency 0.1–5 ms, arbitrary read chunks, short writes, a
    /// 64 KiB buffer per direction, and no errors.
    pub fn calm() -> Faults {
        Faults {
            latency: (Duration::from_micros(100), Duration::from_millis(5)),
            chunking: 300,
            short_writes: 200,
            buffer: 64 * 1024,
            ..Faults::none()
        }
    }

    /// A hostile mix drawn from `rng`: each fault kind is on with probability 1/2 and then
    /// gets a random rate.
    pub fn swarm(rng: &mut Rng) -> Faults {
        let rate = |rng: &mut Rng, max: u64| -> u32 {
            if rng.chance(500) {
                rng.range(1, max) as u32
            } else {
                0
            }
        };
        let lat_hi = rng.range(0, 20_000);
        let lat_lo = rng.range(0, lat_hi);
        Faults {
            latency: (Duration::from_micros(lat_lo), Duration::from_micros(lat_hi)),
            chunking: rate(rng, 1000),
            short_writes: rate(rng, 1000),
            buffer: *rng
                .pick(&[512, 4096, 16 * 1024, 64 * 1024])
                .unwrap_or(&4096),
            refuse: rate(rng, 300),
            black_hole: rate(rng, 200),
            reset: rate(rng, 300),
            accept_emfile: rate(rng, 300),
            ipv6_broken: rng.chance(150),
        }
    }
}

/// How often the simulated kernel injected each fault during a run (see
/// [`Sim::injected`](crate::runtime::Sim::injected)): what a fault sweep counts to show
/// that its faults really happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Injected {
    /// Connects refused although a server listened ([`Faults::refuse`]).
    pub refused: u64,
    /// Connects never answered ([`Faults::black_hole`]).
    pub black_holed: u64,
    /// Established connections reset mid-stream ([`Faults::reset`]).
    pub resets: u64,
    /// Accepts failed with `EMFILE` ([`Faults::accept_emfile`]).
    pub accept_emfile: u64,
    /// Writes that took only part of what they were offered ([`Faults::short_writes`]).
    pub short_writes: u64,
    /// IPv6 connects failed with `ENETUNREACH` ([`Faults::ipv6_broken`]).
    pub ipv6_unreachable: u64,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults::calm()
    }
}
