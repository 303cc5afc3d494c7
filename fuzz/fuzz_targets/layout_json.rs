//! The manifest, index and config JSON and the layout planner: a small image built by the test
//! helper with one of its JSON members replaced by the input. The first byte picks the layout,
//! the member and whether digests are checked (unchecked gets the planner past the digest).
#![no_main]
use bathyscaphe::source::{load_stream, LoadOptions};
use bathyscaphe::testkit::{tar_members, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use libfuzzer_sys::fuzz_target;

const FORMATS: [ArchiveFormat; 4] = [
    ArchiveFormat::DockerArchive,
    ArchiveFormat::DockerOciArchive,
    ArchiveFormat::OciArchive,
    ArchiveFormat::Kaniko,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, json)) = data.split_first() else {
        return;
    };
    let spec = ImageSpec::new("fuzz:latest")
        .layer(LayerSpec::new("ADD a /").file("etc/a", b"a\n"))
        .layer(
            LayerSpec::new("RUN rm")
                .whiteout("etc/a")
                .file("bin/b", b"b"),
        );
    let format = FORMATS[usize::from(pick & 3)];
    let mut members = spec.members(format, Compression::None);
    let json_members: Vec<usize> = (0..members.len())
        .filter(|&i| matches!(members[i].data.first(), Some(b'{' | b'[')))
        .collect();
    let Some(&target) = json_members.get(usize::from(pick >> 3) % json_members.len().max(1)) else {
        return;
    };
    members[target].data = json.to_vec();
    let opts = LoadOptions {
        verify: pick & 4 != 0,
        ..Default::default()
    };
    let _ = load_stream(tar_members(&members).as_slice(), "fuzz.tar", &opts);
});
