//! Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/) with the test helper, so no
//! seed blob is committed: `cargo run --example fuzz-seeds [DIR]`. Each seed is small (a few
//! KB): the fuzzers grow their own corpora from them.
use bathyscaphe::testkit::{compress, fake_elf, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use std::path::{Path, PathBuf};

fn small_image() -> ImageSpec {
    ImageSpec::new("seed:latest")
        .workdir("/app")
        .env("PATH=/usr/bin")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .dir("etc")
                .file("etc/os-release", b"ID=seed\n")
                .symlink("bin", "usr/bin")
                .file(
                    "usr/bin/tool",
                    &fake_elf(Some("/lib/ld.so"), &["libc.so.6"], None, 0),
                ),
        )
        .layer(
            LayerSpec::new("RUN rm -rf /etc && apt-get clean")
                .whiteout("etc/os-release")
                .opaque("var/cache")
                .hardlink("usr/bin/alias", "usr/bin/tool")
                .file_owned("app/x", b"x", 0o600, 1000, 1000),
        )
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let d = dir.join(target);
    std::fs::create_dir_all(&d)?;
    std::fs::write(d.join(name), bytes)
}

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fuzz/corpus"));
    let spec = small_image();
    let formats = [
        ("docker", ArchiveFormat::DockerArchive),
        ("docker-oci", ArchiveFormat::DockerOciArchive),
        ("oci", ArchiveFormat::OciArchive),
        ("kaniko", ArchiveFormat::Kaniko),
    ];
    for (i, (name, f)) in formats.iter().enumerate() {
        write(&dir, "archive", name, &spec.archive(*f, Compression::None))?;
        write(
            &dir,
            "archive_file",
            name,
            &spec.archive(*f, Compression::None),
        )?;
        // layout_json: first byte picks layout (low 2 bits), checking (bit 2), member (rest)
        for m in spec.members(*f, Compression::None) {
            if matches!(m.data.first(), Some(b'{' | b'[')) {
                let pick = i as u8;
                let mut seed = vec![pick];
                seed.extend_from_slice(&m.data);
                let file = format!("{name}-{}", m.name.replace('/', "_"));
                write(&dir, "layout_json", &file, &seed)?;
            }
        }
    }
    write(
        &dir,
        "archive",
        "oci-gzip",
        &spec.archive(ArchiveFormat::OciArchive, Compression::Gzip),
    )?;
    for (i, l) in spec.layers.iter().enumerate() {
        // layer_tar: first byte 0 plain, 1 gzip, 2 zstd around the rest
        for pick in 0..3u8 {
            let mut seed = vec![pick];
            seed.extend_from_slice(&l.tar());
            write(&dir, "layer_tar", &format!("layer{i}-{pick}"), &seed)?;
        }
        let mut pre = vec![0u8];
        pre.extend_from_slice(&compress(&l.tar(), Compression::Gzip));
        write(&dir, "layer_tar", &format!("layer{i}-pregzip"), &pre)?;
    }
    write(
        &dir,
        "dockerfile",
        "multi",
        b"# syntax=docker/dockerfile:1\nARG BASE=debian\nFROM ${BASE} AS build\nRUN apt-get update && \\\n    apt-get install -y gcc\nCOPY --from=0 /a /b\nFROM scratch AS final\nCOPY --from=build /out /\nCMD [\"/app\"]\n",
    )?;
    write(
        &dir,
        "dive_ci",
        "rules",
        b"rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.1\n",
    )?;
    write(
        &dir,
        "dive_ci",
        "disabled",
        b"---\nrules:\n  lowestEfficiency: disabled\n",
    )?;
    write(
        &dir,
        "rules",
        "rule",
        b"buildTools:\n  dpkg: [gcc*, make]\nrules:\n  - id: my-cache\n    category: package-cache\n    severity: high\n    paths: [\"/var/cache/**\", \"/root/.{npm,cache}/*.tgz\", \"/tmp/?\"]\n    exclude: [\"/var/cache/keep\"]\n",
    )?;
    for (i, r) in [
        "debian:12",
        "docker://library/alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "localhost:5000/a/b:tag",
        "oci-archive://img.tar",
        "podman://x",
    ]
    .iter()
    .enumerate()
    {
        write(&dir, "reference", &format!("r{i}"), r.as_bytes())?;
    }
    Ok(())
}
