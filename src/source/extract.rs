//! Read one file's bytes back out of an image archive: only the layer that holds it is opened
//! and inflated, up to that entry. For the explorer's "extract" key; never writes anything.

use crate::error::{Error, Result};
use crate::image::Compression;
use crate::paths::clean_entry_path;
use crate::source::archive::MemberIndex;
use crate::source::layout::{self, Selection};
use flate2::bufread::MultiGzDecoder;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The bytes of `path` (e.g. `/app/server`) as stored in layer `layer` (manifest order) of the
/// image at `source` (an archive or OCI layout directory), picked by `selection` as when loading.
pub fn extract_entry(
    source: &Path,
    selection: &Selection,
    layer: usize,
    path: &str,
) -> Result<Vec<u8>> {
    let idx = MemberIndex::from_path(source)?;
    let plan = layout::plan(&idx, selection, false)?;
    let lp = plan
        .layers
        .get(layer)
        .ok_or_else(|| Error::not_image(&idx.archive, format!("has no layer {layer}")))?;
    let m = idx.resolve(&lp.member)?.ok_or_else(|| {
        Error::member(
            &idx.archive,
            &lp.member,
            "layer listed in the manifest is missing from the archive",
        )
    })?;
    let want = clean_entry_path(path.trim_start_matches('/'))
        .ok()
        .flatten()
        .unwrap_or_default();
    let merr = |msg: String| Error::member(&idx.archive, &lp.member, msg);
    let mut buffered = BufReader::with_capacity(256 * 1024, idx.open(&m)?);
    let head = buffered
        .fill_buf()
        .map_err(|e| merr(format!("read failed: {e}")))?;
    let decoded: Box<dyn Read> = match Compression::sniff(head) {
        Compression::Gzip => Box::new(MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| merr(format!("corrupt zstd stream: {e}")))?,
        ),
        Compression::None => Box::new(buffered),
    };
    let mut ar = tar::Archive::new(decoded);
    let mut found = None;
    for entry in ar.entries().map_err(|e| merr(e.to_string()))? {
        let mut entry = entry.map_err(|e| merr(e.to_string()))?;
        let raw = entry.path_bytes();
        let Ok(raw) = std::str::from_utf8(&raw).map(str::to_string) else {
            continue;
        };
        if clean_entry_path(&raw).ok().flatten().as_deref() != Some(want.as_str()) {
            continue;
        }
        if !entry.header().entry_type().is_file() {
            return Err(merr(format!("{path} is not a regular file in this layer")));
        }
        let mut v = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut v)
            .map_err(|e| merr(format!("{path}: {e}")))?;
        // a later entry of the same path wins, as when the layer is applied
        found = Some(v);
    }
    found.ok_or_else(|| merr(format!("{path} is not in this layer")))
}
