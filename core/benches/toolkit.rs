//! Toolkit benchmarks, side by side with Node v20 doing the same work in the same run:
//! `BlockList.check` with 10 / 1 000 / 100 000 mixed rules (addresses, ranges, subnets,
//! both families) over the same queries, and `isIP` over a fixed mix of valid and invalid
//! strings. Rules and queries come from one seed; Node receives them through a temp file,
//! so both sides run identical inputs (their answers are compared too).
//!
//! Both sides report CPU time per operation (this thread's `schedstat` here, Node's
//! `process.cpuUsage()` there), which keeps the figures meaningful on a shared machine.
//!
//! `cargo bench -p nodenet-core --bench toolkit` (`NODENET_BENCH_NODE=0` skips the Node
//! side).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::time::{Duration, Instant};

use nodenet_core::{is_ip, BlockList, SocketAddress};

/// splitmix64.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One rule as both sides add it: (kind, address, end or prefix, family).
struct RuleSpec {
    kind: &'static str,
    a: String,
    b: String,
    family: &'static str,
}

fn random_ip(rng: &mut Rng, v6: bool) -> IpAddr {
    if v6 {
        // Mostly inside 2001:db8::/32 so rules and queries meet.
        let low = u128::from(rng.next()) << 32 | u128::from(rng.next() as u32);
        IpAddr::V6(Ipv6Addr::from(0x2001_0db8u128 << 96 | low))
    } else {
        IpAddr::V4(Ipv4Addr::from(rng.next() as u32))
    }
}

fn offset(ip: IpAddr, by: u64) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4).saturating_add(by as u32))),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
            u128::from(v6).saturating_add(u128::from(by)),
        )),
    }
}

fn text(ip: IpAddr) -> String {
    SocketAddress::from(ip).address()
}

fn make_rules(rng: &mut Rng, n: usize) -> Vec<RuleSpec> {
    (0..n)
        .map(|_| {
            let v6 = rng.below(2) == 0;
            let family = if v6 { "ipv6" } else { "ipv4" };
            let ip = random_ip(rng, v6);
            match rng.below(3) {
                0 => RuleSpec {
                    kind: "address",
                    a: text(ip),
                    b: String::new(),
                    family,
                },
                1 => RuleSpec {
                    kind: "range",
                    a: text(ip),
                    b: text(offset(ip, rng.below(1 << 12))),
                    family,
                },
                _ => {
                    let prefix = if v6 {
                        48 + rng.below(81)
                    } else {
                        12 + rng.below(21)
                    };
                    RuleSpec {
                        kind: "subnet",
                        a: text(ip),
                        b: prefix.to_string(),
                        family,
                    }
                }
            }
        })
        .collect()
}

fn make_queries(rng: &mut Rng, rules: &[RuleSpec], n: usize) -> Vec<(String, &'static str)> {
    (0..n)
        .map(|_| {
            if !rules.is_empty() && rng.below(2) == 0 {
                // Near a rule: often inside it, sometimes just outside.
                let r = &rules[rng.below(rules.len() as u64) as usize];
                let ip: IpAddr = r.a.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                let ip = offset(ip, rng.below(64));
                match ip {
                    // Some IPv4 queries in their mapped IPv6 spelling.
                    IpAddr::V4(v4) if rng.below(4) == 0 => (format!("::ffff:{v4}"), "ipv6"),
                    ip => (text(ip), r.family),
                }
            } else {
                let v6 = rng.below(2) == 0;
                (text(random_ip(rng, v6)), if v6 { "ipv6" } else { "ipv4" })
            }
        })
        .collect()
}

fn json_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// CPU time this thread has run, in ns (`/proc/thread-self/schedstat`), so that other
/// processes competing for the cores do not inflate the figures; `None` off Linux.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Time `f` (which does `per_call` operations) for at least `budget`; CPU ns per operation
/// (wall-clock ns where CPU time is unavailable).
fn time<F: FnMut() -> usize>(budget: Duration, per_call: usize, mut f: F) -> (f64, usize) {
    let mut sink = f(); // warm-up (builds the BlockList index)
    let start = Instant::now();
    let cpu_start = thread_cpu_ns();
    let mut calls = 0u64;
    while start.elapsed() < budget {
        sink = sink.wrapping_add(f());
        calls += 1;
    }
    let elapsed = match (cpu_start, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64,
        _ => start.elapsed().as_nanos() as f64,
    };
    (elapsed / (calls as f64 * per_call as f64), black_box(sink))
}

/// Run a Node script that prints one JSON object; `None` when node is unavailable or
/// `NODENET_BENCH_NODE=0` (our side only: the Node runs of 100 000 rules take a minute).
fn node(script: &str) -> Option<String> {
    if std::env::var_os("NODENET_BENCH_NODE").is_some_and(|v| v == "0") {
        return None;
    }
    let out = Command::new("node").arg("-e").arg(script).output().ok()?;
    if !out.status.success() {
        eprintln!("node failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Pull a number out of Node's `{"ns":…,"hits":…}` line.
fn field(json: &str, name: &str) -> Option<f64> {
    let at = json.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn row(name: &str, ours: f64, theirs: Option<f64>) {
    match theirs {
        Some(t) => println!("{name:<34} {ours:>12.1} {t:>14.1} {:>11.0}x", t / ours),
        None => println!("{name:<34} {ours:>12.1} {:>14} {:>12}", "n/a", "n/a"),
    }
}

fn bench_block_list(rng: &mut Rng, n: usize, tmp: &std::path::Path) {
    let rules = make_rules(rng, n);
    let queries = make_queries(rng, &rules, 4096);

    let build_start = Instant::now();
    let mut list = BlockList::new();
    for r in &rules {
        let res = match r.kind {
            "address" => list.add_address(r.a.as_str(), r.family),
            "range" => list.add_range(r.a.as_str(), r.b.as_str(), r.family),
            _ => list.add_subnet(r.a.as_str(), r.b.parse::<f64>().unwrap_or(0.0), r.family),
        };
        res.expect("generated rule is valid");
    }
    let _ = list.check("0.0.0.0", "ipv4"); // builds the index
    let build = build_start.elapsed();

    let hits = queries
        .iter()
        .filter(|(a, f)| list.check(a.as_str(), f).unwrap_or(false))
        .count();
    let (ns, _) = time(Duration::from_millis(400), queries.len(), || {
        queries
            .iter()
            .filter(|(a, f)| list.check(black_box(a.as_str()), f).unwrap_or(false))
            .count()
    });
    let (ns_parse, _) = time(Duration::from_millis(300), queries.len(), || {
        queries
            .iter()
            .filter(|(a, f)| match *f {
                "ipv4" => nodenet_core::ip::uv::ip4_addr(black_box(a)).is_some(),
                _ => nodenet_core::ip::uv::ip6_addr(black_box(a)).is_some(),
            })
            .count()
    });
    let parsed: Vec<IpAddr> = queries
        .iter()
        .map(|(a, _)| a.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
        .collect();
    let (ns_ip, _) = time(Duration::from_millis(300), parsed.len(), || {
        parsed
            .iter()
            .filter(|&&ip| list.check_ip(black_box(ip)))
            .count()
    });

    let data = format!(
        "{{\"rules\":[{}],\"queries\":[{}]}}",
        rules
            .iter()
            .map(|r| format!(
                "[\"{}\",{},{},\"{}\"]",
                r.kind,
                json_str(&r.a),
                json_str(&r.b),
                r.family
            ))
            .collect::<Vec<_>>()
            .join(","),
        queries
            .iter()
            .map(|(a, f)| format!("[{},\"{f}\"]", json_str(a)))
            .collect::<Vec<_>>()
            .join(",")
    );
    let theirs = std::fs::write(tmp, data).ok().and_then(|_| {
        node(&format!(
            r#"
const net = require('net');
const {{ rules, queries }} = JSON.parse(require('fs').readFileSync({path}, 'utf8'));
const bl = new net.BlockList();
for (const [k, a, b, f] of rules) {{
  if (k === 'address') bl.addAddress(a, f);
  else if (k === 'range') bl.addRange(a, b, f);
  else bl.addSubnet(a, Number(b), f);
}}
let hits = 0;
for (const [a, f] of queries) if (bl.check(a, f)) hits++;
// Time whole passes or, when a pass is slow, as many checks as fit in the budget.
const budget = 400e6;
let ops = 0, i = 0;
const start = process.hrtime.bigint();
const cpu = process.cpuUsage();
while (Number(process.hrtime.bigint() - start) < budget) {{
  const [a, f] = queries[i];
  bl.check(a, f);
  ops++; i = (i + 1) % queries.length;
}}
const used = process.cpuUsage(cpu);
const ns = (used.user + used.system) * 1000 / ops;
console.log(JSON.stringify({{ ns, hits }}));
"#,
            path = json_str(&tmp.display().to_string())
        ))
    });
    let node_ns = theirs.as_deref().and_then(|j| field(j, "ns"));
    if let Some(node_hits) = theirs.as_deref().and_then(|j| field(j, "hits")) {
        assert_eq!(
            node_hits as usize, hits,
            "nodenet and Node disagree on {n} rules"
        );
    }
    row(&format!("BlockList.check, {n} rules"), ns, node_ns);
    println!(
        "{:<34} {ns_ip:>12.1} {:>14} {:>12}   (index build {:.1} ms, {hits}/{} hits)",
        "  of which lookup (check_ip)",
        "",
        "",
        build.as_secs_f64() * 1e3,
        queries.len()
    );
    println!(
        "{:<34} {ns_parse:>12.1}",
        "  of which parsing (libuv rules)"
    );
}

/// A fixed mix of valid and invalid isIP inputs (half valid).
const IS_IP_MIX: &[&str] = &[
    "127.0.0.1",
    "255.255.255.255",
    "::1",
    "2001:db8::1",
    "::ffff:192.168.1.1",
    "fe80::1%eth0",
    "1:2:3:4:5:6:7:8",
    "10.0.0.1",
    "256.0.0.1",
    "01.2.3.4",
    "localhost",
    "1:2:3:4:5:6:7:8:9",
    "",
    "[::1]",
    "1.2.3",
    "example.com",
];

fn bench_is_ip() {
    let valid = IS_IP_MIX.iter().filter(|s| is_ip(s) != 0).count();
    let (ns, _) = time(Duration::from_millis(400), IS_IP_MIX.len(), || {
        IS_IP_MIX
            .iter()
            .map(|s| usize::from(is_ip(black_box(s))))
            .sum()
    });
    let list = IS_IP_MIX
        .iter()
        .map(|s| json_str(s))
        .collect::<Vec<_>>()
        .join(",");
    let theirs = node(&format!(
        r#"
const net = require('net');
const mix = [{list}];
let sum = 0;
for (let k = 0; k < 20000; k++) for (const s of mix) sum += net.isIP(s);
const start = process.hrtime.bigint();
const cpu = process.cpuUsage();
let ops = 0;
while (Number(process.hrtime.bigint() - start) < 400e6) {{
  for (let k = 0; k < 1000; k++) for (const s of mix) sum += net.isIP(s);
  ops += 1000 * mix.length;
}}
const used = process.cpuUsage(cpu);
const ns = (used.user + used.system) * 1000 / ops;
console.log(JSON.stringify({{ ns, valid: mix.filter((s) => net.isIP(s) !== 0).length, sum }}));
"#
    ));
    if let Some(node_valid) = theirs.as_deref().and_then(|j| field(j, "valid")) {
        assert_eq!(node_valid as usize, valid, "isIP answers differ");
    }
    row(
        &format!("isIP ({} strings, {valid} valid)", IS_IP_MIX.len()),
        ns,
        theirs.as_deref().and_then(|j| field(j, "ns")),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported (few benches).
    let node_version = node("console.log(process.version)").unwrap_or_else(|| "unavailable".into());
    println!("nodenet toolkit benchmarks vs Node {node_version}");
    println!(
        "{:<34} {:>12} {:>14} {:>12}",
        "benchmark", "nodenet ns", "node ns", "node/ours"
    );
    let tmp = std::env::temp_dir().join(format!("nodenet-bench-{}.json", std::process::id()));
    let mut rng = Rng(0x5eed);
    for n in [10, 1_000, 100_000] {
        bench_block_list(&mut rng, n, &tmp);
    }
    let _ = std::fs::remove_file(&tmp);
    bench_is_ip();
}
