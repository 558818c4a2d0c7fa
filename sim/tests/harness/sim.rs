// The simulation harness of the shared backend suites (`nodenet/testsuite/`): each test
// body runs as the program of a simulated host (127.0.0.1 and ::1 are its loopback), in
// virtual time, on `nodenet_sim::runtime`, with no faults and no latency (the suites are
// written for a loopback, where a small write arrives in one read); a failure reports its
// seed and replay command.
// `spawn!` is a task on the same host, `sleep_ms!` a virtual sleep. The tests that need
// what the simulation does not have — Unix domain sockets, OS sockets handed in or out
// (`from_std`, `std::net::TcpStream` peers), wall-clock measurements — are listed with the
// reason and ignored.

#[allow(dead_code)]
const BACKEND: &str = "sim";
/// The seed of every test (the suites' assertions do not depend on it).
const SEED: u64 = 1;

/// Run one test body on a simulated host.
#[allow(dead_code)]
fn run_sim<F: std::future::Future<Output = ()> + 'static>(name: &str, body: F) {
    let mut sim = nodenet_sim::runtime::Sim::with_faults(SEED, nodenet_sim::Faults::none());
    sim.client(name, async move {
        body.await;
        Ok(())
    });
    if let Err(e) = sim.run() {
        panic!("{e}");
    }
}

macro_rules! nn_test {
    ($(#[$m:meta])* fn unix_path_modes_unlink_and_eaddrinuse() $body:block) => {
        nn_test!(@ignored unix_path_modes_unlink_and_eaddrinuse, "the simulated kernel has no Unix domain sockets");
    };
    ($(#[$m:meta])* fn unix_abstract_name() $body:block) => {
        nn_test!(@ignored unix_abstract_name, "the simulated kernel has no Unix domain sockets");
    };
    ($(#[$m:meta])* fn from_std_and_into_std() $body:block) => {
        nn_test!(@ignored from_std_and_into_std, "the simulation has no OS sockets to hand in or out");
    };
    ($(#[$m:meta])* fn max_connections_drops_with_node_data() $body:block) => {
        nn_test!(@ignored max_connections_drops_with_node_data, "its peers are std::net::TcpStream (OS sockets)");
    };
    ($(#[$m:meta])* fn write_dispatched_at_once_returns_true_like_node() $body:block) => {
        nn_test!(@ignored write_dispatched_at_once_returns_true_like_node, "its peer is a std::net::TcpStream (an OS socket)");
    };
    ($(#[$m:meta])* fn reset_and_destroy_sends_rst_and_idle_timeout_fires() $body:block) => {
        nn_test!(@ignored reset_and_destroy_sends_rst_and_idle_timeout_fires, "it measures the idle timeout in wall-clock time (Instant::now), which virtual time does not advance");
    };
    ($(#[$m:meta])* fn shutdown_ends_gracefully_then_destroys_at_deadline() $body:block) => {
        nn_test!(@ignored shutdown_ends_gracefully_then_destroys_at_deadline, "its deadline and its assertion are in wall-clock time (Instant::now), which virtual time does not advance");
    };
    ($(#[$m:meta])* fn block_list_on_server_and_client() $body:block) => {
        nn_test!(@ignored block_list_on_server_and_client, "its peer is a std::net::TcpStream (an OS socket)");
    };
    (@ignored $name:ident, $why:literal) => {
        #[test]
        #[ignore = $why]
        fn $name() {
            panic!("not runnable on the simulator: {}", $why);
        }
    };
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            run_sim(stringify!($name), async move $body);
        }
    };
}
#[allow(unused_macros)]
macro_rules! next {
    ($s:expr) => {
        $s.next_event().await
    };
}
/// `Some(next event)`, or `None` when `deadline` passed first.
#[allow(unused_macros)]
macro_rules! next_until {
    ($s:expr, $deadline:expr) => {
        nodenet_sim::runtime::timeout(
            $deadline.saturating_duration_since(nodenet_sim::runtime::now()),
            $s.next_event(),
        )
        .await
        .ok()
    };
}
/// Run a future concurrently (a task on the same simulated host).
#[allow(unused_macros)]
macro_rules! spawn {
    ($b:block) => {
        nodenet_sim::runtime::spawn(async move $b)
    };
}
#[allow(unused_macros)]
macro_rules! task {
    ($b:block) => {
        nodenet_sim::runtime::spawn(async move $b)
    };
}
#[allow(unused_macros)]
macro_rules! join {
    ($h:expr) => {
        $h.await.expect("the task finished")
    };
}
#[allow(unused_macros)]
macro_rules! detach {
    ($h:expr) => {
        drop($h)
    };
}
#[allow(unused_macros)]
macro_rules! sleep_ms {
    ($ms:expr) => {
        nodenet_sim::runtime::sleep(std::time::Duration::from_millis($ms)).await
    };
}
#[allow(unused_macros)]
macro_rules! shutdown {
    ($server:expr, $deadline:expr) => {
        $server.shutdown($deadline).await
    };
}
