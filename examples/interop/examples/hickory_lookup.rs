//! An async resolver as Node's `lookup` option: hickory-resolver answers a nodenet
//! socket's lookups on the socket's own task (`Socket::set_lookup_async`), so no thread
//! blocks in getaddrinfo. `cargo run -p nodenet-examples --example hickory_lookup`;
//! `cargo test` runs it as a test.
//!
//! The resolver here has no name servers, so it runs without a network: it answers
//! `localhost` and every `*.localhost` name itself (RFC 6761: the loopback addresses,
//! no query) and the names in the hosts file. A real program builds it from the
//! system's configuration with `Resolver::builder_tokio()`.

use std::error::Error;

use hickory_resolver::config::{LookupIpStrategy, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{Resolver, TokioResolver};
use nodenet_tokio::{
    create_server, AsyncLookup, ConnectOptions, ErrorCode, ListenOptions, LookupAddress,
    LookupOptions, ServerOptions, Socket, SocketEvent, SocketOptions,
};

type BoxError = Box<dyn Error + Send + Sync>;

/// hickory with no name servers: `localhost` names and the hosts file only.
fn offline_resolver() -> TokioResolver {
    let mut opts = ResolverOpts::default();
    opts.use_hosts_file = ResolveHosts::Always;
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    Resolver::builder_with_config(ResolverConfig::new(), TokioConnectionProvider::default())
        .with_options(opts)
        .build()
}

/// Node's `lookup(host, {family, all})` on hickory: the answers of `family` (4, 6, or
/// both for 0), every one when `all`, else the first; Node's `getaddrinfo ENOTFOUND
/// host` when there is none.
fn hickory_lookup(resolver: TokioResolver) -> impl AsyncLookup {
    move |host: String, options: LookupOptions| {
        let resolver = resolver.clone();
        async move {
            let not_found = || nodenet_tokio::Error::getaddrinfo(ErrorCode::ENOTFOUND, &host);
            let answer = resolver
                .lookup_ip(host.as_str())
                .await
                .map_err(|_| not_found())?;
            let mut addrs: Vec<LookupAddress> = answer
                .iter()
                .map(|ip| LookupAddress::new(ip.to_string(), if ip.is_ipv4() { 4 } else { 6 }))
                .filter(|a| options.family == 0 || a.family == options.family)
                .collect();
            if !options.all {
                addrs.truncate(1);
            }
            if addrs.is_empty() {
                return Err(not_found());
            }
            Ok(addrs)
        }
    }
}

/// What the demo saw: the `Lookup` events of a connect to `db.localhost`, and the
/// error of a connect to a name hickory cannot answer.
#[derive(Debug)]
struct Seen {
    lookups: Vec<SocketEvent>,
    failure: nodenet_tokio::Error,
}

async fn demo() -> Result<Seen, BoxError> {
    let mut server = create_server(ServerOptions::default());
    server.listen(ListenOptions::host_port("127.0.0.1", 0))?;
    // Bound on the next tick, as in Node: `Listening` says the address is known.
    server.next_event().await;
    let port = server.local_addr()?.port();
    tokio::spawn(async move { while server.next_event().await.is_some() {} });

    let resolver = offline_resolver();
    let mut socket = Socket::new(SocketOptions::default());
    socket.set_lookup_async(hickory_lookup(resolver.clone()));
    socket.connect(ConnectOptions {
        family: 4,
        ..ConnectOptions::host_port("db.localhost", port)
    })?;
    socket.connected().await?;
    let mut lookups = Vec::new();
    while let Some(ev) = socket.next_event().await {
        match ev {
            SocketEvent::Connect => break,
            ev @ SocketEvent::Lookup { .. } => lookups.push(ev),
            _ => {}
        }
    }
    socket.destroy(None);

    let mut unknown = Socket::new(SocketOptions::default());
    unknown.set_lookup_async(hickory_lookup(resolver));
    unknown.connect(ConnectOptions::host_port("nodenet-example.invalid", port))?;
    let failure = match unknown.connected().await {
        Ok(()) => return Err("an unknown name connected".into()),
        Err(e) => e,
    };
    Ok(Seen { lookups, failure })
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), BoxError> {
    let seen = tokio::runtime::Runtime::new()?.block_on(demo())?;
    for ev in &seen.lookups {
        println!("{ev:?}");
    }
    println!("unknown name: {}", seen.failure);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use nodenet_tokio::{ErrorCode, SocketEvent};

    #[test]
    fn hickory_answers_the_lookup_without_a_network() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let seen = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), super::demo()).await })
            .expect("timed out")
            .unwrap();
        assert_eq!(
            seen.lookups,
            vec![SocketEvent::Lookup {
                error: None,
                address: Some("127.0.0.1".into()),
                family: Some(4),
                host: "db.localhost".into(),
            }]
        );
        assert_eq!(seen.failure.code(), ErrorCode::ENOTFOUND);
        assert_eq!(
            seen.failure.message(),
            "getaddrinfo ENOTFOUND nodenet-example.invalid"
        );
    }
}
