//! `std::io::Read` / `Write` over a [`Socket`] (blocking), so std-based protocol crates
//! run on it (see the shared driver's `stream_io`).

use std::io::{self, Read, Write};

use crate::Socket;

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_read_bytes(cx, buf))
    }
}

impl Write for Socket {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_write_bytes(cx, data))
    }
    fn flush(&mut self) -> io::Result<()> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_flush_bytes(cx))
    }
}

impl Socket {
    /// `Write`'s counterpart of `AsyncWrite::poll_shutdown`: `end()` and block until
    /// `Finish` (or the socket is gone).
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_end(cx))
    }
}
