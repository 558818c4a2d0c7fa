//! How errors print, checked against what Node v20 prints for the same error
//! (`String(err)`, which is also the first line of `util.inspect(err)`): Node's own
//! `ERR_*` errors carry the code in the name, system and DNS errors do not.

use nodenet_core::{Error, ErrorCode};

#[test]
fn node_err_codes_print_in_the_name() {
    // node: String(err) of net.connect(70000)
    assert_eq!(
        Error::bad_port("Port", "type number (70000)").to_string(),
        "RangeError [ERR_SOCKET_BAD_PORT]: Port should be >= 0 and < 65536. Received type number (70000)."
    );
    // node: new net.Socket().setEncoding('bogus')
    assert_eq!(
        Error::unknown_encoding("bogus").to_string(),
        "TypeError [ERR_UNKNOWN_ENCODING]: Unknown encoding: bogus"
    );
    // node: server.close() twice, the second callback's error
    assert_eq!(
        Error::server_not_running().to_string(),
        "Error [ERR_SERVER_NOT_RUNNING]: Server is not running."
    );
    // node: new net.Socket().write('x') → 'error'
    assert_eq!(
        Error::socket_closed().to_string(),
        "Error [ERR_SOCKET_CLOSED]: Socket is closed"
    );
    assert_eq!(
        Error::invalid_ip_address("x").to_string(),
        "TypeError [ERR_INVALID_IP_ADDRESS]: Invalid IP address: x"
    );
}

#[test]
fn system_dns_abort_and_cxx_errors_keep_the_plain_name() {
    assert_eq!(
        Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.1", 9, None).to_string(),
        "Error: connect ECONNREFUSED 127.0.0.1:9"
    );
    assert_eq!(
        Error::getaddrinfo(ErrorCode::ENOTFOUND, "nonexistent.invalid").to_string(),
        "Error: getaddrinfo ENOTFOUND nonexistent.invalid"
    );
    // node: a write after the peer's end once the automatic end ran
    assert_eq!(
        Error::ended_by_other_party().to_string(),
        "Error: This socket has been ended by the other party"
    );
    // node: net.connect({signal}) with an aborted signal
    assert_eq!(
        Error::abort().to_string(),
        "AbortError: The operation was aborted"
    );
    // node: new net.SocketAddress({address: '999.1.1.1'}) (thrown by Node's C++ layer)
    assert_eq!(
        Error::invalid_address().to_string(),
        "Error: Invalid socket address"
    );
}

#[test]
fn aggregate_prints_the_inspect_header_and_its_errors() {
    // node: util.inspect(err) starts with `AggregateError [ECONNREFUSED]: `
    let agg = Error::aggregate(vec![
        Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.1", 9, None),
        Error::connect(ErrorCode::ECONNREFUSED, "::1", 9, None),
    ]);
    assert_eq!(
        agg.to_string(),
        "AggregateError [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:9; connect ECONNREFUSED ::1:9"
    );
}

#[test]
fn debug_lists_only_the_set_properties() {
    let e = Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.1", 9, None);
    assert_eq!(
        format!("{e:?}"),
        "Error { code: ECONNREFUSED, message: \"connect ECONNREFUSED 127.0.0.1:9\", \
         syscall: \"connect\", address: \"127.0.0.1\", port: 9 }"
    );
    assert_eq!(
        format!("{:?}", Error::socket_closed()),
        "Error { code: ERR_SOCKET_CLOSED, message: \"Socket is closed\" }"
    );
    assert_eq!(
        format!("{:?}", Error::bad_port("Port", "type number (-1)")),
        "Error { code: ERR_SOCKET_BAD_PORT, class: RangeError, \
         message: \"Port should be >= 0 and < 65536. Received type number (-1).\" }"
    );
}

#[test]
fn io_error_shows_the_node_text() {
    let io: std::io::Error = Error::connect(ErrorCode::ECONNREFUSED, "127.0.0.1", 9, None).into();
    assert_eq!(io.to_string(), "Error: connect ECONNREFUSED 127.0.0.1:9");
}
