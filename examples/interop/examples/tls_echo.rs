//! TLS over nodenet: tokio-rustls on both ends of a nodenet-tokio connection, with a
//! self-signed certificate made at start-up (rcgen). The server echoes what it reads;
//! the client checks the echo and closes. `cargo run -p nodenet-examples --example
//! tls_echo`; `cargo test` runs it as a test.
//!
//! A nodenet `Socket` implements tokio's `AsyncRead`/`AsyncWrite`, so `TlsAcceptor` and
//! `TlsConnector` take it as they take a `TcpStream`.

use std::error::Error;
use std::sync::Arc;

use nodenet_tokio::{
    connect, create_server, ConnectOptions, ListenOptions, ServerEvent, ServerOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

type BoxError = Box<dyn Error + Send + Sync>;

/// A server and a client configuration for `localhost`: a fresh self-signed certificate,
/// trusted by the client; ring as the crypto provider.
fn tls_configs() -> Result<(Arc<ServerConfig>, Arc<ClientConfig>), BoxError> {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    let cert = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)?;
    let mut roots = RootCertStore::empty();
    roots.add(cert)?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((Arc::new(server), Arc::new(client)))
}

/// Accept one connection, run the TLS handshake on it and echo until the client closes;
/// returns the TLS version negotiated.
async fn echo_server(
    mut server: nodenet_tokio::Server,
    config: Arc<ServerConfig>,
) -> Result<String, BoxError> {
    let socket = loop {
        match server.next_event().await {
            Some(ServerEvent::Connection(socket)) => break socket,
            Some(_) => continue,
            None => return Err("server closed".into()),
        }
    };
    let mut tls = TlsAcceptor::from(config).accept(socket).await?;
    let version = format!("{:?}", tls.get_ref().1.protocol_version());
    let mut buf = vec![0; 4096];
    loop {
        let n = tls.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        tls.write_all(&buf[..n]).await?;
        tls.flush().await?;
    }
    tls.shutdown().await?;
    Ok(version)
}

/// Connect, handshake, send `message`, read the echo, close; returns the echo.
async fn echo_client(
    addr: std::net::SocketAddr,
    config: Arc<ClientConfig>,
    message: &[u8],
) -> Result<Vec<u8>, BoxError> {
    let socket = connect(ConnectOptions::tcp_addr(addr))?;
    let name = ServerName::try_from("localhost")?;
    let mut tls = TlsConnector::from(config).connect(name, socket).await?;
    tls.write_all(message).await?;
    tls.flush().await?;
    let mut echo = vec![0; message.len()];
    tls.read_exact(&mut echo).await?;
    tls.shutdown().await?;
    // The server's close_notify, then the end of the stream.
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).await?;
    if !rest.is_empty() {
        return Err(format!("unexpected bytes after the echo: {rest:?}").into());
    }
    Ok(echo)
}

/// Both ends on 127.0.0.1: the echo of `message` and the TLS version.
async fn demo(message: &'static [u8]) -> Result<(Vec<u8>, String), BoxError> {
    let (server_config, client_config) = tls_configs()?;
    let mut server = create_server(ServerOptions::default());
    server.listen(ListenOptions::host_port("127.0.0.1", 0))?;
    // Bound on the next tick, as in Node: `Listening` says the address is known.
    server.next_event().await;
    let addr = server.local_addr()?;
    let serving = tokio::spawn(echo_server(server, server_config));
    let echo = echo_client(addr, client_config, message).await?;
    let version = serving.await??;
    Ok((echo, version))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), BoxError> {
    let rt = tokio::runtime::Runtime::new()?;
    let (echo, version) = rt.block_on(demo(b"hello over TLS on a nodenet socket"))?;
    println!("{version}: {}", String::from_utf8_lossy(&echo));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn tls_handshake_and_echo_over_nodenet_sockets() {
        let message: &'static [u8] = b"hello over TLS on a nodenet socket";
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (echo, version) = rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(30), super::demo(message)).await
            })
            .expect("timed out")
            .unwrap();
        assert_eq!(echo, message);
        assert_eq!(version, "Some(TLSv1_3)");
    }
}
