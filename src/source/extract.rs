//! Read one file's bytes back out of an image for the explorer's "extract" key, as a stream:
//! the file is copied to disk as its layer is read, never held whole (a multi-GB file costs the
//! explorer no more memory than a small one). Never writes anything itself.

use crate::error::Result;
use crate::source::access::{EntryReader, LayerFiles};
use crate::source::layout::Selection;
use std::path::Path;

/// A reader over the bytes of `path` (e.g. `/app/server`) as stored in layer `layer` (manifest
/// order) of the image at `source` (an archive or OCI layout directory), picked by `selection`
/// as when loading. Only that layer is opened, and inflated up to the entry.
pub fn extract_entry(
    source: &Path,
    selection: &Selection,
    layer: usize,
    path: &str,
) -> Result<EntryReader> {
    LayerFiles::open(source, selection)?.entry(layer, path)
}
