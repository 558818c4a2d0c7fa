//! The options suite (`nodenet_tests::suite::options`: `signal`, `reusePort`, `onread`,
//! `server[Symbol.asyncDispose]`) on the simulation runtime. The bodies whose abort comes
//! from a std thread after a wall-clock delay are ignored: virtual time does not wait for
//! another thread (a simulation with nothing left to run is stuck, or races the thread).

nodenet_tests::register_tests!(nodenet_sim::runtime::SimRuntime => options {
    an_aborted_signal_destroys_the_socket_before_it_connects,
    abort_while_connecting,
    #[ignore = "the abort comes from a std thread after a wall-clock delay, which virtual time does not wait for"]
    abort_from_another_thread_destroys_a_connected_socket,
    #[ignore = "the abort comes from a std thread after a wall-clock delay, which virtual time does not wait for"]
    one_abort_destroys_every_socket_sharing_the_signal,
    #[ignore = "the abort comes from a std thread after a wall-clock delay, which virtual time does not wait for"]
    a_signal_closes_a_listening_server_from_another_thread,
    an_aborted_signal_closes_the_server_right_after_listen,
    reuse_port_lets_two_servers_accept_on_one_port,
    reads_land_in_the_callers_buffer,
    pausing_after_a_read_stops_reading_until_resume,
    an_empty_buffer_fails_with_enobufs,
    close_and_wait_returns_once_the_connections_closed,
    close_and_wait_on_a_server_that_never_listened_returns_at_once,
});
