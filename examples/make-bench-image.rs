//! Writes the large images the benchmark reads (`benches/bench.sh` calls this):
//!   make-bench-image many OUT.tar [ENTRIES] [LAYERS]  docker archive, many small files with
//!                                                     overwrites and deletions
//!   make-bench-image gzip OUT.tar [MB]                OCI archive, gzip layers, MB of file data

use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};

fn many(entries: usize, layers: usize) -> ImageSpec {
    let per = entries / layers;
    let dirs = per / 51; // each dir: one directory entry and 50 files
    let mut spec = ImageSpec::new("bench/many:latest");
    for i in 0..layers {
        let mut l = LayerSpec::new(&format!("/bin/sh -c npm install step {i}"));
        for d in 0..dirs {
            let dn = format!("app/node_modules/pkg{i}_{d}");
            l = l.dir(&dn);
            for f in 0..50 {
                let body =
                    format!("module.exports = {};\n", i * 1_000_003 + d * 50 + f).repeat(1 + f % 7);
                l = l.file(&format!("{dn}/file{f}.js"), body.as_bytes());
            }
        }
        if i > 0 {
            for d in (0..dirs).step_by(10) {
                l = l.file(
                    &format!("app/node_modules/pkg{}_{d}/file0.js", i - 1),
                    b"// patched\n",
                );
            }
            for d in (5..dirs).step_by(10) {
                l = l.whiteout(&format!("app/node_modules/pkg{}_{d}", i - 1));
            }
        }
        spec = spec.layer(l);
    }
    spec
}

fn gzip(mb: usize) -> ImageSpec {
    // four layers, the first holding half the bytes (one big layer limits parallelism, as in
    // real images), files of 4 MB
    let total = mb * 1_000_000;
    let shares = [
        total / 2,
        total / 4,
        total / 8,
        total - total / 2 - total / 4 - total / 8,
    ];
    let mut spec = ImageSpec::new("bench/gzip:latest");
    let mut seed = 1;
    for (i, bytes) in shares.iter().enumerate() {
        let mut l = LayerSpec::new(&format!("/bin/sh -c install part {i}"));
        let mut left = *bytes;
        let mut n = 0;
        while left > 0 {
            let sz = left.min(4_000_000);
            l = l.file(&format!("opt/data{i}/blob{n}.bin"), &filler(sz, seed));
            seed += 1;
            n += 1;
            left -= sz;
        }
        spec = spec.layer(l);
    }
    spec
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map(String::as_str).unwrap_or("many");
    let out = std::path::PathBuf::from(
        args.get(2)
            .cloned()
            .unwrap_or_else(|| format!("bench-{kind}.tar")),
    );
    let n = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match kind {
        "many" => many(n(3, 510_000), n(4, 20)).write(
            &out,
            ArchiveFormat::DockerArchive,
            Compression::None,
        )?,
        "gzip" => gzip(n(3, 1000)).write(&out, ArchiveFormat::OciArchive, Compression::Gzip)?,
        other => {
            eprintln!("unknown kind {other}: use many or gzip");
            std::process::exit(2);
        }
    }
    eprintln!("wrote {}", out.display());
    Ok(())
}
