//! The runtimes' IO traits over a [`Socket`](crate::Socket): tokio's `AsyncRead`/
//! `AsyncWrite` (feature `tokio`), `futures-io`'s (feature `futures-io`) and
//! `std::io::Read`/`Write` on a blocking runtime. They live here, beside the type,
//! because a backend crate may not implement a foreign trait for the foreign generic
//! type (the orphan rule). The event mapping is the driver's `stream_io`.

#[cfg(feature = "futures-io")]
mod futures;
mod std_io;
#[cfg(feature = "tokio")]
mod tokio;
