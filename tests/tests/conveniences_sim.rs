//! The conveniences suite (`nodenet_tests::suite::conveniences`: `connected()`,
//! `listened()`, addresses and descriptors, typed constructors, async `lookup`) on the simulation
//! runtime. The bodies whose peer is a `std::net::TcpListener`, that read a descriptor
//! with getsockopt, or whose lookup is answered by a std thread are ignored.

nodenet_tests::register_tests!(nodenet_sim::runtime::SimRuntime => conveniences {
    #[ignore = "its peer is a std::net::TcpListener (an OS socket, outside the simulation)"]
    connected_resolves_at_connect_and_keeps_the_events,
    connected_reports_the_connect_error_and_keeps_error_and_close,
    #[ignore = "its peer is a std::net::TcpListener (an OS socket, outside the simulation)"]
    connected_is_cancel_safe,
    connected_errors_without_a_connection,
    typed_constructors_listen_connect_and_display,
    #[ignore = "it reads the sockets' descriptors (as_fd, getsockname): the simulation has no OS sockets"]
    addresses_and_descriptors,
    #[ignore = "its lookup is answered by a std thread after a wall-clock delay, which virtual time does not wait for"]
    async_lookup_answers_on_the_socket_s_task,
    listened_resolves_at_listening_and_keeps_the_events,
});
