//! `net.BlockList` (§7). TEMPORARY skeleton; completed by the toolkit issue.

use crate::error::Result;

/// `net.BlockList`.
#[derive(Clone, Debug, Default)]
pub struct BlockList;

impl BlockList {
    /// `new BlockList()`.
    pub fn new() -> BlockList {
        BlockList
    }
    /// `addSubnet(network, prefix, family)`.
    pub fn add_subnet(&mut self, _network: &str, _prefix: u8, _family: &str) -> Result<()> {
        Ok(())
    }
    /// `check(address, family)`.
    pub fn check(&self, _address: &str, _family: &str) -> Result<bool> {
        Ok(true)
    }
}
