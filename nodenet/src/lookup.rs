//! [`Socket::set_lookup_async`]: Node's `lookup` option answered by an async resolver.

use std::sync::Arc;

use crate::driver::CustomLookup;
use crate::runtime::Runtime;
use crate::{AsyncLookup, Socket};

impl<R: Runtime, K> Socket<R, K> {
    /// Node's `lookup` option with an asynchronous resolver (an [`AsyncLookup`], e.g. an
    /// `async` closure over hickory-resolver): every later [`connect`](Self::connect) by
    /// name awaits its answer on the socket's task, so no thread blocks. Replaces a
    /// resolver given to [`set_lookup`](Self::set_lookup), and the other way round. The
    /// answer is used as Node uses a custom lookup's: `Lookup` events, then the attempts
    /// (every address when `all`, with happy eyeballs).
    ///
    /// ```
    /// use nodenet_tokio::{ConnectOptions, LookupAddress, LookupOptions, Socket, SocketEvent,
    ///                     SocketOptions};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let port = listener.local_addr()?.port();
    /// let mut socket = Socket::new(SocketOptions::default());
    /// socket.set_lookup_async(|host: String, _opts: LookupOptions| async move {
    ///     tokio::task::yield_now().await; // any async work: a DNS query, a registry...
    ///     assert_eq!(host, "db.internal");
    ///     Ok(vec![LookupAddress::new("127.0.0.1", 4)])
    /// });
    /// socket.connect(ConnectOptions::host_port("db.internal", port))?;
    /// socket.connected().await?;
    /// assert!(matches!(socket.next_event().await,
    ///                  Some(SocketEvent::Lookup { address: Some(a), .. }) if a == "127.0.0.1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn set_lookup_async(&mut self, lookup: impl AsyncLookup) {
        self.driver
            .set_lookup(CustomLookup::Async(Arc::new(lookup)));
    }
}
