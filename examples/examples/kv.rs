//! The key-value store of `nodenet_examples::kv` on tokio over loopback: the same server
//! and retrying client that `tests/kv_sim.rs` runs on simulated hosts over 10 000 seeds.
//! `cargo run --example kv`.

use nodenet_core::{ConnectOptions, Endpoint, ListenOptions, ServerOptions};
use nodenet_examples::kv::{check_store, serve, Client, Framing, Store};
use nodenet_tokio::{Server, ServerEvent, TokioRuntime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let mut server = Server::new(ServerOptions::default());
        server.listen(ListenOptions::port(0).host("127.0.0.1"))?;
        let Some(ServerEvent::Listening) = server.next_event().await else {
            return Err("the server did not start".into());
        };
        let Some(Endpoint::Tcp(addr)) = server.address() else {
            return Err("no address".into());
        };
        tokio::task::spawn_local(serve(server, Store::default(), Framing::Lines));
        let mut client = Client::new(
            TokioRuntime,
            ConnectOptions::tcp(addr.port(), "127.0.0.1"),
            tokio::time::sleep,
        );
        let sets: Vec<(String, String)> = [("a", "1"), ("b", "2"), ("a", "3")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        check_store(&mut client, &sets).await?;
        println!(
            "kv on tokio: stored and read back {} pairs over {} connection(s)",
            sets.len(),
            client.reconnects
        );
        Ok(())
    })
}
