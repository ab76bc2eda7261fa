//! The store for `lichen fill` (`fill_cmd.rs`), which authors synthetic feeds below the
//! front door. It leaves the user binary with `fill_cmd.rs` (the bench crate); until then
//! it is the one file besides the bench's own that opens the store directly, and
//! `scripts/check-cli-door.sh` names it.

use crate::data::DataDir;

impl DataDir {
    /// Opens the feed store of an existing data directory.
    pub fn store(&self) -> anyhow::Result<lichen::store::SledStore> {
        self.require()?;
        Ok(self.layout().open_store()?)
    }
}
