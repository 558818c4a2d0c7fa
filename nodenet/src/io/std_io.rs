//! `std::io::Read` / `Write` over a [`Socket`] on a blocking runtime, so std-based
//! protocol crates run on it.

use std::io::{self, Read, Write};

use crate::runtime::{Blocking, BlockingRuntime};
use crate::Socket;

impl<R: BlockingRuntime> Read for Socket<R, Blocking> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_read_bytes(cx, buf))
    }
}

impl<R: BlockingRuntime> Write for Socket<R, Blocking> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_write_bytes(cx, data))
    }

    fn flush(&mut self) -> io::Result<()> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_flush_bytes(cx))
    }
}
