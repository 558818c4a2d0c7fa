//! `server[Symbol.asyncDispose]()`: [`Server::close_and_wait`], close and wait for
//! `Close` in one call.

use crate::runtime::{Async, AsyncRuntime, Blocking, BlockingRuntime};
use crate::Server;

impl<R: AsyncRuntime> Server<R, Async> {
    /// Node's `server[Symbol.asyncDispose]()` (what `await using server = ...` runs):
    /// [`close`](Self::close) the server and return once its `Close` came, i.e. once
    /// every open connection closed (their owners must keep driving them; dropping a
    /// socket closes it). Like Node it never fails, and a server without a listening
    /// handle (never listened, already closed, or still looking its host up) is left
    /// alone and the call returns at once.
    ///
    /// The server is driven meanwhile and its events are dropped (a connection accepted
    /// before the close is dropped, which closes it); `Close` is consumed.
    ///
    /// ```no_run
    /// # async fn demo<R: nodenet::AsyncRuntime + Default>() {
    /// use nodenet::{ListenOptions, Server, ServerOptions};
    /// let mut server = Server::<R>::new(ServerOptions::default());
    /// server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
    /// // ... serve ...
    /// server.close_and_wait().await;
    /// assert!(!server.listening());
    /// # }
    /// ```
    #[doc(alias = "asyncDispose")]
    pub async fn close_and_wait(&mut self) {
        if self.driver.start_dispose() {
            std::future::poll_fn(|cx| self.driver.poll_until_close(cx)).await
        }
    }
}

impl<R: BlockingRuntime> Server<R, Blocking> {
    /// Node's `server[Symbol.asyncDispose]()` on a blocking runtime:
    /// [`close`](Self::close) the server and block until its `Close` came (every open
    /// connection closed; their threads must keep driving them). A server without a
    /// listening handle is left alone and the call returns at once, as in Node. Events
    /// that arrive meanwhile are dropped.
    ///
    /// ```no_run
    /// # fn demo<R: nodenet::BlockingRuntime + Default>() {
    /// use nodenet::{ListenOptions, Server, ServerOptions};
    /// let mut server = Server::<R>::new(ServerOptions::default());
    /// server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
    /// server.close_and_wait();
    /// # }
    /// ```
    #[doc(alias = "asyncDispose")]
    pub fn close_and_wait(&mut self) {
        if self.driver.start_dispose() {
            let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
            rt.block_on(|cx| driver.poll_until_close(cx))
        }
    }
}
