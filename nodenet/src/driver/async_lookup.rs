//! Node's `lookup` option answered by a future: [`AsyncLookup`] (an async resolver such
//! as hickory-resolver), beside the synchronous [`Lookup`]. The driver polls the future
//! on the socket's own task, like the system resolver's, so nothing blocks a worker.
//! Only how the answer is obtained differs: the core treats both answers alike.

use std::future::Future;
use std::sync::Arc;

use nodenet_core::{Error, LookupAddress};

use super::resolve::{Lookup, LookupOptions};
use super::runtime::BoxFuture;

/// A user-supplied asynchronous resolver: Node's `lookup` option as a future. Any
/// `Fn(String, LookupOptions) -> impl Future<Output = Result<Vec<LookupAddress>, Error>>`
/// closure (`Send + Sync`, its future `Send + 'static`) is one; install it with
/// `Socket::set_lookup_async`.
///
/// The future runs on the socket's task (it is polled by `next_event` and the IO
/// traits); a resolver that needs its runtime (hickory-resolver on tokio) finds it
/// there.
///
/// ```
/// use nodenet::{AsyncLookup, LookupAddress, LookupOptions};
///
/// let table = |host: String, _o: LookupOptions| async move {
///     match host.as_str() {
///         "db.internal" => Ok(vec![LookupAddress::new("127.0.0.1", 4)]),
///         _ => Err(nodenet::Error::getaddrinfo(nodenet::ErrorCode::ENOTFOUND, &host)),
///     }
/// };
/// let opts = LookupOptions { family: 0, hints: 0, all: false };
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let answer = table.lookup("db.internal", opts).await;
/// assert_eq!(answer.unwrap(), vec![LookupAddress::new("127.0.0.1", 4)]);
/// # });
/// ```
pub trait AsyncLookup: Send + Sync + 'static {
    /// Resolve `host`; the error is reported unchanged (Node passes it through).
    fn lookup(
        &self,
        host: &str,
        options: LookupOptions,
    ) -> BoxFuture<Result<Vec<LookupAddress>, Error>>;
}

impl<F, Fut> AsyncLookup for F
where
    F: Fn(String, LookupOptions) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<LookupAddress>, Error>> + Send + 'static,
{
    fn lookup(
        &self,
        host: &str,
        options: LookupOptions,
    ) -> BoxFuture<Result<Vec<LookupAddress>, Error>> {
        Box::pin(self(host.to_owned(), options))
    }
}

/// The resolver a socket was given, in either form.
#[derive(Clone)]
pub(crate) enum CustomLookup {
    /// Answers at once (`set_lookup`).
    Sync(Arc<dyn Lookup>),
    /// Answers with a future the socket polls (`set_lookup_async`).
    Async(Arc<dyn AsyncLookup>),
}
