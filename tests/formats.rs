//! Every input layout and compression reads to the same image and the same numbers; dive's
//! fixtures give dive's published figures; image and platform selection.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::image::InputFormat;
use bathyscaphe::source::{load_path, LoadOptions, Selection};
use bathyscaphe::testkit::{
    images_members, tar_members, ArchiveFormat, Compression, ImageSpec, LayerSpec,
};
use common::*;

fn story() -> ImageSpec {
    ImageSpec::new("story:1")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .dir("usr")
                .dir("usr/bin")
                .file_sized("usr/bin/sh", 1000, 1)
                .symlink("bin", "usr/bin"),
        )
        .layer(
            LayerSpec::new("RUN apt-get install cc")
                .file_sized("usr/bin/cc", 5000, 2)
                .dir("var/cache/apt")
                .file_sized("var/cache/apt/pkg.deb", 3000, 3),
        )
        .layer(
            LayerSpec::new("RUN rm -rf /var/cache/apt")
                .whiteout("var/cache/apt")
                .after_empty("ENV A=1"),
        )
        .layer(LayerSpec::new("RUN chmod 755 /usr/bin/sh").file_mode(
            "usr/bin/sh",
            &bathyscaphe::testkit::filler(1000, 1),
            0o755,
        ))
}

#[test]
fn every_layout_and_compression_reads_the_same_image() {
    // shipped 1000+5000+3000+1000 = 10000; visible sh(1000, layer 3) + cc(5000) = 6000;
    // waste: the deleted cache 3000 + sh's lower copy 1000 = 4000.
    let t = tmp();
    let cases = [
        (
            ArchiveFormat::DockerArchive,
            Compression::None,
            InputFormat::DockerArchive,
        ),
        (
            ArchiveFormat::DockerArchive,
            Compression::Gzip,
            InputFormat::DockerArchive,
        ),
        (
            ArchiveFormat::DockerOciArchive,
            Compression::None,
            InputFormat::DockerOciArchive,
        ),
        (
            ArchiveFormat::OciArchive,
            Compression::Gzip,
            InputFormat::OciArchive,
        ),
        (
            ArchiveFormat::OciArchive,
            Compression::Zstd,
            InputFormat::OciArchive,
        ),
        (
            ArchiveFormat::OciArchive,
            Compression::None,
            InputFormat::OciArchive,
        ),
        (
            ArchiveFormat::Kaniko,
            Compression::Gzip,
            InputFormat::Kaniko,
        ),
    ];
    let mut diff_ids: Option<Vec<String>> = None;
    for (fmt, comp, expect) in cases {
        let img = load_spec(t.path(), &story(), fmt, comp);
        assert_eq!(img.format, expect, "{fmt:?}");
        let a = Analysis::run(&img);
        assert_eq!(a.waste.shipped_bytes, 10000, "{fmt:?} {comp:?}");
        assert_eq!(a.waste.final_bytes, 6000, "{fmt:?} {comp:?}");
        assert_eq!(a.waste.wasted_bytes, 4000, "{fmt:?} {comp:?}");
        assert_eq!(
            img.layers[3]
                .history
                .as_ref()
                .unwrap()
                .created_by
                .as_deref(),
            Some("RUN chmod 755 /usr/bin/sh")
        );
        assert_eq!(img.layers[2].empty_history.len(), 1);
        let ids: Vec<String> = img.layers.iter().map(|l| l.diff_id.clone()).collect();
        match &diff_ids {
            None => diff_ids = Some(ids),
            Some(prev) => assert_eq!(&ids, prev, "{fmt:?} {comp:?}: diff_ids"),
        }
    }
    // an OCI layout directory
    let dir = t.path().join("layout");
    story().write_oci_dir(&dir, Compression::Gzip).unwrap();
    let img = load_path(&dir, &LoadOptions::default()).unwrap();
    assert_eq!(img.format, InputFormat::OciDir);
    assert_eq!(Analysis::run(&img).waste.wasted_bytes, 4000);
}

#[test]
fn picks_one_image_of_several_and_one_platform_of_an_index() {
    let t = tmp();
    let a = ImageSpec::new("app:1").layer(LayerSpec::new("a").file_sized("a", 10, 1));
    let b = ImageSpec::new("app:2").layer(LayerSpec::new("b").file_sized("b", 20, 2));
    let p = t.path().join("two.tar");
    std::fs::write(
        &p,
        tar_members(&images_members(
            &[a.clone(), b.clone()],
            ArchiveFormat::DockerArchive,
            Compression::None,
        )),
    )
    .unwrap();
    let first = load_path(&p, &LoadOptions::default()).unwrap();
    assert_eq!(first.tags, vec!["app:1".to_string()]);
    let opts = LoadOptions {
        selection: Selection {
            image: Some("app:2".into()),
            platform: None,
        },
        ..Default::default()
    };
    let second = load_path(&p, &opts).unwrap();
    assert_eq!(second.size_bytes(), 20);
    let o = run(&["--image", "app:9", p.to_str().unwrap()], t.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("manifest.json: no image \"app:9\""),
        "{}",
        stderr(&o)
    );
    // taking the first of several says so on stderr
    let o = run(&[p.to_str().unwrap()], t.path());
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("holds 2 images; reading app:1"),
        "{}",
        stderr(&o)
    );

    let amd = ImageSpec::new("multi:1")
        .platform("linux/amd64")
        .layer(LayerSpec::new("a").file_sized("amd", 10, 1));
    let arm = ImageSpec::new("multi:1")
        .platform("linux/arm64")
        .layer(LayerSpec::new("a").file_sized("arm", 30, 2));
    let p = t.path().join("multi.tar");
    std::fs::write(
        &p,
        tar_members(&images_members(
            &[amd, arm],
            ArchiveFormat::OciArchive,
            Compression::Gzip,
        )),
    )
    .unwrap();
    let opts = LoadOptions {
        selection: Selection {
            image: None,
            platform: Some("linux/arm64".into()),
        },
        ..Default::default()
    };
    assert_eq!(load_path(&p, &opts).unwrap().size_bytes(), 30);
    let opts = LoadOptions {
        selection: Selection {
            image: None,
            platform: Some("linux/amd64".into()),
        },
        ..Default::default()
    };
    assert_eq!(load_path(&p, &opts).unwrap().size_bytes(), 10);
}

#[test]
fn dives_fixtures_give_dives_numbers_and_all_fixtures_load() {
    let Some(fx) = require_shared_fixtures() else {
        return;
    };
    let img = load_path(
        &fx.join("dive/test-docker-image.tar"),
        &LoadOptions::default(),
    )
    .unwrap();
    let a = Analysis::run(&img);
    // figures from dive's own test suite (../shared/fixtures/README.md)
    assert_eq!(a.dive.efficiency, 0.9844212134184309);
    assert_eq!(a.dive.size_bytes, 1220598);
    assert_eq!(a.dive.user_size_bytes, 66237);
    assert_eq!(a.dive.wasted_bytes, 32025);
    assert_eq!(a.dive.user_wasted_percent, Some(0.4834911001404049));
    for name in [
        "dive/test-kaniko-image.tar",
        "dive/test-oci-gzip-image.tar",
        "dive/test-oci-zstd-image.tar",
        "dive/test-oci-estargz-image.tar",
        "dive/test-oci-uncompressed-image.tar",
        "builders/docker-legacy-go-multi-stage.docker.tar",
        "builders/buildah-layers.oci.tar",
        "builders/buildah-squashed.oci.tar",
        "builders/buildah-squashed.docker.tar",
    ] {
        let img = load_path(&fx.join(name), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!img.layers.is_empty(), "{name}");
    }
    // the four OCI variants hold the same content
    let sizes: Vec<u64> = ["gzip", "zstd", "estargz", "uncompressed"]
        .iter()
        .map(|c| {
            load_path(
                &fx.join(format!("dive/test-oci-{c}-image.tar")),
                &LoadOptions::default(),
            )
            .unwrap()
            .size_bytes()
        })
        .collect();
    assert!(sizes.iter().all(|&s| s == sizes[0]), "{sizes:?}");
    // plain tars with a README are not images
    for c in ["gzip", "zstd", "uncompressed", "estargz"] {
        let p = fx.join(format!("dive/test-{c}-image.tar"));
        let o = run(&[p.to_str().unwrap()], &fx);
        assert_eq!(o.status.code(), Some(2), "{c}");
        assert!(
            stderr(&o).contains("not a container image archive"),
            "{c}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn the_json_report_has_dives_keys_and_ours() {
    let t = tmp();
    let p = t.path().join("story.tar");
    story()
        .write(&p, ArchiveFormat::OciArchive, Compression::Gzip)
        .unwrap();
    let out = t.path().join("r.json");
    let o = run(
        &["--json", out.to_str().unwrap(), p.to_str().unwrap()],
        t.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    // dive's layer sizes are sums of header sizes: 1000, 8000, 0, 1000
    let sizes: Vec<u64> = v["layer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sizeBytes"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, vec![1000, 8000, 0, 1000]);
    assert_eq!(v["image"]["sizeBytes"], 10000);
    let b = &v["bathyscaphe"];
    assert_eq!(b["format"], "oci-archive");
    assert_eq!(b["trueWastedBytes"], 4000);
    assert_eq!(b["finalBytes"], 6000);
    assert_eq!(b["userSizeBytes"], 9000);
    assert_eq!(b["layers"][1]["trueWastedBytes"], 3000);
    assert_eq!(b["layers"][0]["trueWastedBytes"], 1000);
    assert_eq!(b["layers"][2]["emptyHistory"][0]["createdBy"], "ENV A=1");
    assert_eq!(b["wastedPaths"][0]["path"], "/var/cache/apt/pkg.deb");
    assert_eq!(b["wastedPaths"][0]["bytes"], 3000);
    assert_eq!(b["wastedPaths"][0]["layers"], serde_json::json!([1]));
    assert!(b["layers"][1]["compressedBytes"].as_u64().unwrap() > 0);
    // dive's efficiency: sh cum 2000 min 1000; cc 5000; pkg.deb 3000; /var/cache/apt whiteout:
    // the stacked apt dir is a real directory holding 3000 → 3000.
    // Σmin = 1000+5000+3000+3000 = 12000, Σcum = 2000+5000+3000+3000 = 13000.
    assert_eq!(
        v["image"]["efficiencyScore"].as_f64().unwrap(),
        12000.0 / 13000.0
    );
    // the text report on a pipe
    let o = run(&[p.to_str().unwrap()], t.path());
    let s = stdout(&o);
    assert!(s.contains("True waste:  4.0 kB of 10.0 kB"), "{s}");
    assert!(s.contains("/var/cache/apt/pkg.deb"), "{s}");
}

#[test]
fn without_verification_only_paths_in_several_layers_are_hashed_and_marks_still_hold() {
    let t = tmp();
    let spec = ImageSpec::new("nv:1")
        .layer(
            LayerSpec::new("a")
                .file("same", b"0123456789")
                .file("changed", b"aaaaaaaaaa")
                .file("alone", b"zz"),
        )
        .layer(
            LayerSpec::new("b")
                .file("same", b"0123456789")
                .file("changed", b"bbbbbbbbbb"),
        );
    let p = t.path().join("nv.tar");
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let opts = LoadOptions {
        verify: false,
        ..Default::default()
    };
    let img = load_path(&p, &opts).unwrap();
    let a = Analysis::run(&img);
    let node = |s: &str| img.paths.lookup(s).unwrap();
    use bathyscaphe::tree::ChangeMark;
    assert_eq!(
        a.merged.mark_at(&img, node("same"), 1),
        Some(ChangeMark::Unchanged)
    );
    assert_eq!(
        a.merged.mark_at(&img, node("changed"), 1),
        Some(ChangeMark::Modified)
    );
    let alone = img.layers[0]
        .entries
        .iter()
        .find(|e| e.node == node("alone"))
        .unwrap();
    assert_eq!(alone.hash, 0, "a path in one layer only is never read");
    // the verified read hashes everything and agrees
    let full = load_path(&p, &LoadOptions::default()).unwrap();
    let h = |img: &bathyscaphe::image::Image, l: usize, s: &str| {
        let n = img.paths.lookup(s).unwrap();
        img.layers[l]
            .entries
            .iter()
            .find(|e| e.node == n)
            .unwrap()
            .hash
    };
    assert_eq!(h(&img, 1, "changed"), h(&full, 1, "changed"));
    assert_eq!(h(&img, 0, "same"), h(&full, 0, "same"));
    assert_eq!(a.waste.wasted_bytes, 20);
}

#[test]
fn follows_nested_indexes_and_picks_by_digest() {
    use sha2::Digest;
    let t = tmp();
    let amd = ImageSpec::new("multi:1")
        .platform("linux/amd64")
        .layer(LayerSpec::new("a").file_sized("amd", 10, 1));
    let arm = ImageSpec::new("multi:1")
        .platform("linux/arm64/v8")
        .layer(LayerSpec::new("a").file_sized("arm", 30, 2));
    let mut ms = images_members(&[amd, arm], ArchiveFormat::OciArchive, Compression::Gzip);
    // move the index's manifests into a nested index blob, as buildx and skopeo write them
    let top = ms.iter().position(|m| m.name == "index.json").unwrap();
    let inner = ms[top].data.clone();
    let hex = hex::encode(sha2::Sha256::digest(&inner));
    ms.push(bathyscaphe::testkit::Member {
        name: format!("blobs/sha256/{hex}"),
        data: inner.clone(),
        symlink: None,
    });
    ms[top].data = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": format!("sha256:{hex}"), "size": inner.len()}]
    }))
    .unwrap();
    let p = t.path().join("nested.tar");
    std::fs::write(&p, tar_members(&ms)).unwrap();
    let opts = LoadOptions {
        selection: Selection {
            image: None,
            platform: Some("linux/arm64/v8".into()),
        },
        ..Default::default()
    };
    let img = load_path(&p, &opts).unwrap();
    assert_eq!(img.size_bytes(), 30);
    // the host's platform by default (these tests run on amd64 or arm64 hosts)
    let img = load_path(&p, &LoadOptions::default()).unwrap();
    let host = bathyscaphe::source::layout::host_platform();
    assert_eq!(
        img.size_bytes(),
        if host == "linux/amd64" { 10 } else { 30 }
    );
    // pick a manifest by (a prefix of) its digest
    let index: serde_json::Value = serde_json::from_slice(&inner).unwrap();
    let arm_digest = index["manifests"][1]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let opts = LoadOptions {
        selection: Selection {
            image: Some(arm_digest[..19].to_string()),
            platform: None,
        },
        ..Default::default()
    };
    assert_eq!(load_path(&p, &opts).unwrap().size_bytes(), 30);
}

#[test]
fn a_tar_stream_read_once_gives_the_same_image_as_the_file() {
    // the daemon path: `docker save` bytes arrive as a stream, manifest last
    for (fmt, comp) in [
        (ArchiveFormat::DockerArchive, Compression::None),
        (ArchiveFormat::DockerOciArchive, Compression::None),
        (ArchiveFormat::OciArchive, Compression::Zstd),
    ] {
        let bytes = story().archive(fmt, comp);
        let img = bathyscaphe::source::load_stream(
            std::io::Cursor::new(bytes),
            "stream",
            &LoadOptions::default(),
        )
        .unwrap();
        let a = Analysis::run(&img);
        assert_eq!(a.waste.wasted_bytes, 4000, "{fmt:?}");
        assert_eq!(a.waste.final_bytes, 6000, "{fmt:?}");
        assert_eq!(img.layers.len(), 4);
    }
    // a stream that breaks off is an error naming the last member read
    let bytes = story().archive(ArchiveFormat::DockerArchive, Compression::None);
    let cut = &bytes[..bytes.len() / 2];
    let err = bathyscaphe::source::load_stream(
        std::io::Cursor::new(cut.to_vec()),
        "stream",
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("stream: "), "{err}");
}

/// `bathy --version` names the gzip inflater; the CI machine has ISA-L (`.ci/run` installs
/// libisal-dev), so there a build without it is a failure, not a slower pass.
#[test]
fn version_names_the_gzip_inflater() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bathy"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gzip: "), "{text}");
    require(
        text.contains("gzip: ISA-L"),
        "a build with ISA-L",
        "apt-get install libisal-dev pkg-config, then rebuild",
    );
}
