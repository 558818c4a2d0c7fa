//! The runtimes' IO traits over the split halves: tokio's (feature `tokio`),
//! futures-io's (feature `futures-io`) and `std::io::Read`/`Write` on a blocking runtime.
//! Reads are the socket's stream reads; writes are [`WriteHalf`]'s kernel-accepted
//! writes (see its docs).

use std::io::{self, Read, Write};

use super::{ReadHalf, WriteHalf};
use crate::runtime::{Blocking, BlockingRuntime};

impl<R: BlockingRuntime> Read for ReadHalf<R, Blocking> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rt = self.shared.rt.clone();
        rt.block_on(|cx| self.poll(cx, |d, cx| d.poll_read_bytes(cx, buf)))
    }
}

impl<R: BlockingRuntime> Write for WriteHalf<R, Blocking> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let rt = self.shared.rt.clone();
        rt.block_on(|cx| self.poll(cx, |d, cx| d.poll_write_direct(cx, data)))
    }

    fn flush(&mut self) -> io::Result<()> {
        let rt = self.shared.rt.clone();
        rt.block_on(|cx| self.poll(cx, |d, cx| d.poll_flush_bytes(cx)))
    }
}

#[cfg(feature = "tokio")]
mod tokio_io {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use super::super::{ReadHalf, WriteHalf};
    use crate::runtime::Runtime;

    impl<R: Runtime, K> AsyncRead for ReadHalf<R, K> {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let room = buf.remaining();
            self.poll(cx, |d, cx| {
                d.poll_read_with(cx, room, |src| buf.put_slice(src))
                    .map_ok(|_| ())
            })
        }
    }

    impl<R: Runtime, K> AsyncWrite for WriteHalf<R, K> {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll(cx, |d, cx| d.poll_write_direct(cx, data))
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.poll(cx, |d, cx| d.poll_flush_bytes(cx))
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.poll(cx, |d, cx| d.poll_end(cx))
        }
    }
}

#[cfg(feature = "futures-io")]
mod futures_io_impl {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures_io::{AsyncRead, AsyncWrite};

    use super::super::{ReadHalf, WriteHalf};
    use crate::runtime::Runtime;

    impl<R: Runtime, K> AsyncRead for ReadHalf<R, K> {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            self.poll(cx, |d, cx| d.poll_read_bytes(cx, buf))
        }
    }

    impl<R: Runtime, K> AsyncWrite for WriteHalf<R, K> {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll(cx, |d, cx| d.poll_write_direct(cx, data))
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.poll(cx, |d, cx| d.poll_flush_bytes(cx))
        }

        fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.poll(cx, |d, cx| d.poll_end(cx))
        }
    }
}
