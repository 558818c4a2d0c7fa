//! tokio's `AsyncRead` / `AsyncWrite` over a [`Socket`], so tokio codecs, TLS and HTTP
//! crates run on it. Reads copy the received chunk into the caller's unfilled buffer
//! without zeroing it first.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::runtime::Runtime;
use crate::Socket;

impl<R: Runtime, K> AsyncRead for Socket<R, K> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let room = buf.remaining();
        self.get_mut()
            .driver
            .poll_read_with(cx, room, |src| buf.put_slice(src))
            .map_ok(|_| ())
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

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().driver.poll_end(cx)
    }
}
