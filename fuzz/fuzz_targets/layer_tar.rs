//! One layer's tar stream through the real reader, plain or behind gzip or zstd: the first
//! byte picks the compression the rest is wrapped in (raw input may also carry its own magic).
#![no_main]
use bathyscaphe::source::layer::{parse_layer_with_progress, LayerParseOptions};
use bathyscaphe::testkit::{compress, Compression};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let blob = match pick % 3 {
        0 => rest.to_vec(),
        1 => compress(rest, Compression::Gzip),
        _ => compress(rest, Compression::Zstd),
    };
    let _ = parse_layer_with_progress(
        blob.as_slice(),
        "fuzz.tar",
        "layer",
        LayerParseOptions::default(),
        None,
    );
});
