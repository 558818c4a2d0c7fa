//! hyper 1.x over nodenet: an HTTP/1.1 server whose connections are nodenet-tokio
//! sockets, asked once by a hyper client that also runs on a nodenet socket and once by a
//! plain `std::net::TcpStream`. `cargo run -p nodenet-examples --example hyper_http1`;
//! `cargo test` runs it as a test.
//!
//! A nodenet `Socket` implements tokio's `AsyncRead`/`AsyncWrite`, so hyper-util's
//! `TokioIo` adapts it to hyper's IO traits like a `TcpStream`.

use std::convert::Infallible;
use std::error::Error;
use std::io::{Read, Write};
use std::net::SocketAddr;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use nodenet_tokio::{
    connect, create_server, ConnectOptions, ListenOptions, Server, ServerEvent, ServerOptions,
};

type BoxError = Box<dyn Error + Send + Sync>;

/// The service: says which method and path it was asked for.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = format!("hello from nodenet: {} {}", req.method(), req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// A nodenet server on 127.0.0.1 with a port the kernel picks, listening.
async fn listen() -> Result<(Server, SocketAddr), BoxError> {
    let mut server = create_server(ServerOptions::default());
    server.listen(ListenOptions::host_port("127.0.0.1", 0))?;
    match server.next_event().await {
        Some(ServerEvent::Listening) => {
            let addr = server.local_addr()?;
            Ok((server, addr))
        }
        other => Err(format!("not listening: {other:?}").into()),
    }
}

/// Serve HTTP/1.1 on every connection `server` accepts (one task each), until
/// `connections` were served.
async fn serve(mut server: Server, connections: usize) {
    let mut served = Vec::new();
    while let Some(ev) = server.next_event().await {
        if let ServerEvent::Connection(socket) = ev {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service_fn(hello));
            served.push(tokio::spawn(conn));
            if served.len() == connections {
                let _ = server.close();
            }
        }
    }
    for conn in served {
        if let Ok(Err(e)) = conn.await {
            eprintln!("connection: {e}");
        }
    }
}

/// `GET path` with hyper's client over a nodenet socket: the status and the body.
async fn get(addr: SocketAddr, path: &str) -> Result<(StatusCode, String), BoxError> {
    let socket = connect(ConnectOptions::tcp_addr(addr))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(socket)).await?;
    let conn = tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    drop(sender); // the connection ends once its last request is done
    conn.await??;
    Ok((status, String::from_utf8(body.to_vec())?))
}

/// The same request written by hand on a std `TcpStream` (`Connection: close`): the
/// whole response as text.
fn get_raw(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// Start the server, ask it twice (hyper client, raw request), return both answers.
async fn demo() -> Result<((StatusCode, String), String), BoxError> {
    let (server, addr) = listen().await?;
    let serving = tokio::spawn(serve(server, 2));
    let hyper_answer = get(addr, "/from-hyper").await?;
    let raw_answer = tokio::task::spawn_blocking(move || get_raw(addr, "/from-std")).await??;
    serving.await?;
    Ok((hyper_answer, raw_answer))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), BoxError> {
    let rt = tokio::runtime::Runtime::new()?;
    let ((status, body), raw) = rt.block_on(demo())?;
    println!("hyper client: {status} {body}");
    println!("std client:\n{raw}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn hyper_serves_http1_over_nodenet_sockets() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let ((status, body), raw) = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), super::demo()).await })
            .expect("timed out")
            .unwrap();
        assert_eq!(status, hyper::StatusCode::OK);
        assert_eq!(body, "hello from nodenet: GET /from-hyper");
        assert!(raw.starts_with("HTTP/1.1 200 OK\r\n"), "{raw}");
        assert!(raw.ends_with("hello from nodenet: GET /from-std"), "{raw}");
    }
}
