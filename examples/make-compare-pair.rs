//! Writes two large images that share all layers but the last (`benches/compare.sh` calls it):
//!   make-compare-pair A.tar B.tar [MB]
//! OCI archives with gzip layers: a base of small files, three layers of 4 MB files, and a
//! last "COPY app" layer whose files differ between A and B.

use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};

fn shared(mb: usize) -> Vec<LayerSpec> {
    let mut base = LayerSpec::new("/bin/sh -c #(nop) ADD file:rootfs in /");
    for d in 0..300 {
        for f in 0..100 {
            base = base.file(
                &format!("usr/lib/pkg{d}/file{f}.so"),
                &filler(2000, (d * 100 + f) as u64),
            );
        }
    }
    let mut layers = vec![base];
    let total = mb * 1_000_000;
    let mut seed = 1_000_000;
    for (i, share) in [total / 2, total / 4, total / 4].into_iter().enumerate() {
        let mut l = LayerSpec::new(&format!("/bin/sh -c apt-get install -y part{i}"));
        let mut left = share;
        let mut n = 0;
        while left > 0 {
            let sz = left.min(4_000_000);
            l = l.file(&format!("opt/part{i}/blob{n}.bin"), &filler(sz, seed));
            seed += 1;
            n += 1;
            left -= sz;
        }
        layers.push(l);
    }
    layers
}

fn image(tag: &str, shared: &[LayerSpec], app_seed: u64) -> ImageSpec {
    let mut spec = ImageSpec::new(tag);
    for l in shared {
        spec = spec.layer(l.clone());
    }
    let mut app = LayerSpec::new("COPY . /app # buildkit");
    for f in 0..5 {
        app = app.file(
            &format!("app/bin/part{f}"),
            &filler(4_000_000, app_seed + f),
        );
    }
    spec.layer(app)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(a), Some(b)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: make-compare-pair A.tar B.tar [MB]");
        std::process::exit(2);
    };
    let mb = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let layers = shared(mb);
    image("bench/pair:a", &layers, 1).write(
        a.as_ref(),
        ArchiveFormat::OciArchive,
        Compression::Gzip,
    )?;
    image("bench/pair:b", &layers, 100).write(
        b.as_ref(),
        ArchiveFormat::OciArchive,
        Compression::Gzip,
    )?;
    Ok(())
}
