//! Writes the demo image `assets/demo.tar` from its description in `bathyscaphe::demo`.
//! Run from the repository root: `cargo run --example make-demo`.

use bathyscaphe::testkit::{ArchiveFormat, Compression};

fn main() -> std::io::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "assets/demo.tar".to_string());
    bathyscaphe::demo::demo_spec().write(
        std::path::Path::new(&out),
        ArchiveFormat::DockerArchive,
        Compression::None,
    )?;
    eprintln!("wrote {out}");
    Ok(())
}
