//! `futures-io`'s `AsyncRead` / `AsyncWrite` over a [`Socket`], so codecs, TLS and HTTP
//! crates of the smol / futures ecosystem run on it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::runtime::Runtime;
use crate::Socket;

impl<R: Runtime, K> AsyncRead for Socket<R, K> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().driver.poll_read_bytes(cx, buf)
    }
}

impl<R: Runtime, K> AsyncWrite for Socket<R, K> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().driver.poll_write_bytes(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().driver.poll_flush_bytes(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().driver.poll_end(cx)
    }
}
