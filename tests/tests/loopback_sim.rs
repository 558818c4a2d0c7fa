//! The loopback suite (`nodenet_tests::suite::loopback`) on the simulation runtime: every
//! body runs in a fresh deterministic simulation, as the program of one simulated host,
//! in virtual time (`nodenet_tests::test_runtime` `SimRuntime`). The bodies that need
//! what a simulation does not have — OS sockets handed in or out, a
//! `std::net::TcpStream` peer — are ignored with the reason.
use nodenet_sim::runtime::SimRuntime;

nodenet_tests::register_tests!(SimRuntime => loopback {
    only_tracked_writes_get_write_done,
    ipv4_echo_data_end_close,
    ipv6_loopback,
    dual_stack_sees_mapped_ipv4_peer,
    unix_path_modes_unlink_and_eaddrinuse,
    unix_abstract_name,
    connect_refused_is_node_shaped,
    system_lookup_failure_is_node_shaped,
    custom_lookup_is_used,
    happy_eyeballs_falls_back_to_the_open_family,
    backpressure_and_drain,
    many_queued_chunks_arrive_whole_and_in_order,
    keep_alive_and_no_delay_read_back,
    server_close_waits_for_the_connection,
    #[ignore = "its peer is a std::net::TcpStream (an OS socket, outside the simulation)"]
    max_connections_drops_with_node_data,
    shutdown_ends_gracefully_then_destroys_at_deadline,
    #[ignore = "the simulation has no OS sockets to hand in or out (from_std, into_std)"]
    from_std_and_into_std,
    write_dispatched_at_once_returns_true_like_node,
    #[ignore = "its peer is a std::net::TcpStream (an OS socket, outside the simulation)"]
    block_list_on_server_and_client,
    reset_and_destroy_sends_rst_and_idle_timeout_fires,
    connect_again_after_destroy,
    many_concurrent_echo_clients,
    family_6_with_v4mapped_reaches_an_ipv4_only_name,
    #[ignore = "its peer is a std::net::TcpStream (an OS socket, outside the simulation)"]
    bytes_written_before_a_drop_are_delivered_then_the_fin,
    a_client_dropped_before_its_first_poll_still_delivers,
});
