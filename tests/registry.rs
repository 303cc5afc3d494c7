//! `registry://` against the real distribution registry (Debian's `docker-registry`): TLS from
//! a CA the test writes, htpasswd Basic auth, the Bearer token flow with a token server that
//! signs real tokens, and a small proxy for the failures a registry cannot be asked to make.
#![cfg(feature = "registry")]

mod common;
mod registry_kit;

use bathyscaphe::testkit::{
    compress, filler, images_members, ArchiveFormat, Compression, ImageSpec, LayerSpec,
};
use registry_kit::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::AtomicUsize;

/// A storage folder with an open plain-HTTP registry on it to push into, and a CA.
struct Setup {
    dir: tempfile::TempDir,
    storage: PathBuf,
    pusher: Registry,
    certs: Certs,
}

fn setup() -> Option<Setup> {
    if !tools_present(&["docker-registry", "htpasswd"]) {
        return None;
    }
    let dir = common::tmp();
    let storage = dir.path().join("storage");
    std::fs::create_dir_all(&storage).expect("mkdir");
    let pusher = Registry::start(dir.path(), &storage, None, Auth::Open);
    let certs = certs(dir.path());
    Some(Setup {
        dir,
        storage,
        pusher,
        certs,
    })
}

impl Setup {
    fn path(&self) -> &Path {
        self.dir.path()
    }
    /// A TLS registry with htpasswd auth over the same storage.
    fn secure(&self) -> Registry {
        Registry::start(self.path(), &self.storage, Some(&self.certs), Auth::Basic)
    }
    fn ca(&self) -> String {
        self.certs.ca_dir.display().to_string()
    }
    fn good_config(&self, host: &str) -> PathBuf {
        docker_config(self.path(), host, USER, PASSWORD)
    }
    /// Push [`big`] as `big:TAG` (gzip) and put a proxy before the registry that sends blobs
    /// in 16 KiB steps `ms` apart, so a download lasts long enough to be watched.
    fn push_big_behind_throttle(&self, tag: &str, ms: u64) -> (ImageSpec, Proxy) {
        let spec = big(&format!("big:{tag}"));
        self.push("big", tag, &spec, Compression::Gzip);
        let rules = Rules {
            throttle: Some(std::time::Duration::from_millis(ms)),
            ..Default::default()
        };
        (spec, Proxy::start(self.pusher.port, rules))
    }

    /// Push `spec` to the open registry as `repo:tag`, OCI media types, layers compressed
    /// with `c`.
    fn push(&self, repo: &str, tag: &str, spec: &ImageSpec, c: Compression) {
        let members = spec.members(ArchiveFormat::OciArchive, c);
        push_members(&self.pusher.host(), repo, tag, &members, false);
    }
}

/// Run bathy with only the credentials in `docker_config` (the user's own never leak in).
fn bathy(args: &[&str], home: &Path, docker_config: Option<&Path>) -> Output {
    let mut cmd = common::bathy();
    cmd.args(args)
        .env_remove("CI")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env("NO_PROXY", "*")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("NO_COLOR", "1");
    match docker_config {
        Some(d) => cmd.env("DOCKER_CONFIG", d),
        None => cmd.env("DOCKER_CONFIG", home.join("no-docker-config")),
    };
    cmd.output().expect("run bathy")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "bathy failed: {}",
        common::stderr(out)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The one line bathy printed for a failure (exit 2).
fn failure(out: &Output) -> String {
    let err = common::stderr(out);
    assert_eq!(out.status.code(), Some(2), "expected exit 2: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    lines[0].to_string()
}

fn app(tag: &str, seed: u64) -> ImageSpec {
    ImageSpec::new(tag)
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file("etc/os-release", b"ID=test\n")
                .file_sized("usr/lib/big.so", 300_000, 1),
        )
        .layer(
            LayerSpec::new("RUN build")
                .file_sized("app/bin", 200_000, seed)
                .file("tmp/cache", &[7; 5000]),
        )
        .layer(LayerSpec::new("RUN rm /tmp/cache").whiteout("tmp/cache"))
}

/// Blob digests of `spec`'s layers compressed with `c`, computed from the tars, in order.
fn layer_digests(spec: &ImageSpec, c: Compression) -> Vec<String> {
    use sha2::Digest;
    spec.layers
        .iter()
        .map(|l| {
            format!(
                "sha256:{}",
                hex::encode(sha2::Sha256::digest(compress(&l.tar(), c)))
            )
        })
        .collect()
}

fn layers(j: &Value) -> &Vec<Value> {
    j["bathyscaphe"]["layers"].as_array().expect("layers")
}

fn file_paths(j: &Value) -> Vec<String> {
    j["layer"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["fileList"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f["path"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn docker_schema_2_over_tls_with_basic_auth() {
    let Some(s) = setup() else { return };
    let spec = app("app:1", 2);
    let members = spec.members(ArchiveFormat::OciArchive, Compression::Gzip);
    push_members(&s.pusher.host(), "team/app", "1", &members, true);
    let reg = s.secure();
    let cfg = s.good_config(&reg.host());
    let target = format!("registry://{}/team/app:1", reg.host());
    let j = json_of(&bathy(
        &[&target, "--cert-dir", &s.ca(), "--json", "-"],
        s.path(),
        Some(&cfg),
    ));
    assert_eq!(j["bathyscaphe"]["format"], "registry");
    let ls = layers(&j);
    let want = layer_digests(&spec, Compression::Gzip);
    let got: Vec<&str> = ls.iter().filter_map(|l| l["digest"].as_str()).collect();
    assert_eq!(got, want);
    // sizes by hand: 8 + 300000; 200000 + 5000; a whiteout only
    let sizes: Vec<u64> = ls.iter().filter_map(|l| l["sizeBytes"].as_u64()).collect();
    assert_eq!(sizes, vec![300_008, 205_000, 0]);
    assert!(ls.iter().all(|l| l["compression"] == "gzip"));

    // the same image through --source registry
    let plain = format!("{}/team/app:1", reg.host());
    let j2 = json_of(&bathy(
        &[
            &plain,
            "--source",
            "registry",
            "--cert-dir",
            &s.ca(),
            "--json",
            "-",
        ],
        s.path(),
        Some(&cfg),
    ));
    assert_eq!(layers(&j2), ls);
}

#[test]
fn the_same_json_as_its_docker_save_archive_apart_from_the_source() {
    let Some(s) = setup() else { return };
    let spec = app("app:2", 3)
        .env("PATH=/usr/bin")
        .trailing("CMD [\"/app/bin\"]");
    let archive = s.path().join("app.tar");
    spec.write(&archive, ArchiveFormat::DockerOciArchive, Compression::None)
        .expect("write archive");
    s.push("app", "2", &spec, Compression::None);
    let reg = s.secure();
    let cfg = s.good_config(&reg.host());
    let target = format!("registry://{}/app:2", reg.host());
    let mut from_registry = json_of(&bathy(
        &[&target, "--cert-dir", &s.ca(), "--json", "-"],
        s.path(),
        Some(&cfg),
    ));
    let a = archive.display().to_string();
    let mut from_archive = json_of(&bathy(&[&a, "--json", "-"], s.path(), None));
    for j in [&mut from_registry, &mut from_archive] {
        let b = j["bathyscaphe"].as_object_mut().expect("bathyscaphe");
        b.remove("source");
        b.remove("format");
        let img = b["image"].as_object_mut().expect("image");
        img.remove("name");
        img.remove("tags");
    }
    assert_eq!(from_registry, from_archive);
}

#[test]
fn a_multi_platform_index_takes_the_platform_asked_for() {
    let Some(s) = setup() else { return };
    let arm = ImageSpec::new("multi:1")
        .platform("linux/arm64")
        .layer(LayerSpec::new("ADD arm /").file("arm/only", b"arm64\n"));
    let s390 = ImageSpec::new("multi:1")
        .platform("linux/s390x")
        .layer(LayerSpec::new("ADD s390 /").file("s390/only", b"s390x\n"));
    let members = images_members(&[arm, s390], ArchiveFormat::OciArchive, Compression::Gzip);
    push_members(&s.pusher.host(), "multi", "1", &members, false);
    let reg = s.secure();
    let cfg = s.good_config(&reg.host());
    let target = format!("registry://{}/multi:1", reg.host());
    let j = json_of(&bathy(
        &[
            &target,
            "--platform",
            "linux/s390x",
            "--cert-dir",
            &s.ca(),
            "--json",
            "-",
        ],
        s.path(),
        Some(&cfg),
    ));
    let paths = file_paths(&j);
    assert!(paths.iter().any(|p| p == "s390/only"), "{paths:?}");
    assert!(!paths.iter().any(|p| p == "arm/only"), "{paths:?}");
    assert_eq!(j["bathyscaphe"]["image"]["architecture"], "s390x");

    // the host (amd64 or arm64 here, but never s390x and arm64 both) unnamed: with arm64
    // hosts the index has an entry, so ask for one it lacks to see the list
    let line = failure(&bathy(
        &[
            &target,
            "--platform",
            "linux/riscv64",
            "--cert-dir",
            &s.ca(),
        ],
        s.path(),
        Some(&cfg),
    ));
    assert!(line.contains("linux/arm64, linux/s390x"), "{line}");
    assert!(line.contains(&format!("registry {}", reg.host())), "{line}");
    assert!(line.contains("repository multi"), "{line}");
    if std::env::consts::ARCH == "x86_64" {
        let line = failure(&bathy(
            &[&target, "--cert-dir", &s.ca()],
            s.path(),
            Some(&cfg),
        ));
        assert!(
            line.contains("linux/amd64") && line.contains("--platform"),
            "{line}"
        );
    }
}

#[test]
fn zstd_layers_with_oci_media_types() {
    let Some(s) = setup() else { return };
    let spec = app("zapp:1", 4);
    s.push("zapp", "1", &spec, Compression::Zstd);
    let reg = s.secure();
    let cfg = s.good_config(&reg.host());
    let target = format!("registry://{}/zapp:1", reg.host());
    let j = json_of(&bathy(
        &[&target, "--cert-dir", &s.ca(), "--json", "-"],
        s.path(),
        Some(&cfg),
    ));
    let ls = layers(&j);
    assert!(ls.iter().all(|l| l["compression"] == "zstd"), "{ls:?}");
    let got: Vec<&str> = ls.iter().filter_map(|l| l["digest"].as_str()).collect();
    assert_eq!(got, layer_digests(&spec, Compression::Zstd));
}

#[test]
fn the_bearer_token_flow_with_a_real_token_server() {
    let Some(s) = setup() else { return };
    let spec = app("tok:1", 5);
    s.push("team/tok", "1", &spec, Compression::Gzip);
    let tokens = TokenServer::start(s.path());
    let reg = Registry::start(s.path(), &s.storage, Some(&s.certs), Auth::Token(&tokens));
    let target = format!("registry://{}/team/tok:1", reg.host());
    let cfg = s.good_config(&reg.host());
    let j = json_of(&bathy(
        &[&target, "--cert-dir", &s.ca(), "--json", "-"],
        s.path(),
        Some(&cfg),
    ));
    assert_eq!(layers(&j).len(), 3);
    assert!(tokens.granted.load(std::sync::atomic::Ordering::Relaxed) >= 1);

    // a wrong password: the token server refuses, the line says where the credential came from
    let bad = docker_config(&s.path().join("bad"), &reg.host(), USER, "wrong-pw");
    std::fs::create_dir_all(s.path().join("bad")).ok();
    let line = failure(&bathy(
        &[&target, "--cert-dir", &s.ca()],
        s.path(),
        Some(&bad),
    ));
    assert!(line.contains("refused the credentials"), "{line}");
    assert!(line.contains("config.json"), "{line}");
    assert!(line.contains("repository team/tok"), "{line}");
    assert!(!line.contains("wrong-pw"), "{line}");
}

#[test]
fn a_wrong_password_names_the_source_never_the_secret() {
    let Some(s) = setup() else { return };
    s.push("app", "1", &app("app:1", 6), Compression::Gzip);
    let reg = s.secure();
    let target = format!("registry://{}/app:1", reg.host());
    let bad = docker_config(s.path(), &reg.host(), USER, "hunter2-wrong");
    let line = failure(&bathy(
        &[&target, "--cert-dir", &s.ca()],
        s.path(),
        Some(&bad),
    ));
    assert!(line.contains("authentication failed (401)"), "{line}");
    assert!(line.contains("config.json (auths)"), "{line}");
    assert!(!line.contains("hunter2"), "{line}");
    // no credentials at all: says where it looked
    let line = failure(&bathy(&[&target, "--cert-dir", &s.ca()], s.path(), None));
    assert!(line.contains("none found"), "{line}");
}

#[test]
fn a_missing_tag_is_one_line() {
    let Some(s) = setup() else { return };
    s.push("app", "1", &app("app:1", 7), Compression::Gzip);
    let reg = s.secure();
    let cfg = s.good_config(&reg.host());
    let target = format!("registry://{}/app:nope", reg.host());
    let line = failure(&bathy(
        &[&target, "--cert-dir", &s.ca()],
        s.path(),
        Some(&cfg),
    ));
    assert!(line.contains("no manifest for nope"), "{line}");
    assert!(
        line.contains(&format!("registry {}, repository app", reg.host())),
        "{line}"
    );
}

#[test]
fn a_self_signed_ca_is_not_trusted_unless_given() {
    let Some(s) = setup() else { return };
    let reg = s.secure();
    let cfg = s.good_config(&reg.host());
    let target = format!("registry://{}/app:1", reg.host());
    let line = failure(&bathy(&[&target], s.path(), Some(&cfg)));
    assert!(line.contains("TLS failure"), "{line}");
    assert!(line.to_lowercase().contains("certificate"), "{line}");
    assert!(line.contains(&format!("registry {}", reg.host())), "{line}");
    // the same CA placed where podman reads it for this host is trusted
    s.push("app", "1", &app("app:1", 8), Compression::Gzip);
    let certs_d = s.path().join(".config/containers/certs.d").join(reg.host());
    std::fs::create_dir_all(&certs_d).expect("mkdir");
    std::fs::copy(s.certs.ca_dir.join("ca.crt"), certs_d.join("ca.crt")).expect("copy");
    let j = json_of(&bathy(&[&target, "--json", "-"], s.path(), Some(&cfg)));
    assert_eq!(layers(&j).len(), 3);
    // --insecure-registry skips verification, as docker's daemon option does
    std::fs::remove_dir_all(&certs_d).expect("rm");
    let host = reg.host();
    let j = json_of(&bathy(
        &[&target, "--insecure-registry", &host, "--json", "-"],
        s.path(),
        Some(&cfg),
    ));
    assert_eq!(layers(&j).len(), 3);
}

#[test]
fn too_many_requests_says_when_to_retry() {
    let Some(s) = setup() else { return };
    let proxy = Proxy::start(
        s.pusher.port,
        Rules {
            too_many: AtomicUsize::new(1000),
            ..Default::default()
        },
    );
    let target = format!("registry://{}/app:1", proxy.host());
    let host = proxy.host();
    let line = failure(&bathy(
        &[&target, "--insecure-registry", &host],
        s.path(),
        None,
    ));
    assert!(line.contains("too many requests (429)"), "{line}");
    assert!(line.contains("retry after 7 seconds"), "{line}");
    assert!(
        line.contains(&format!("registry {host}, repository app")),
        "{line}"
    );
}

/// A layer big enough to be cut in the middle: incompressible bytes.
fn big(tag: &str) -> ImageSpec {
    ImageSpec::new(tag)
        .layer(LayerSpec::new("ADD base /").file("etc/os-release", b"ID=big\n"))
        .layer(LayerSpec::new("ADD blob /").file("data/blob", &filler(2_000_000, 9)))
}

#[test]
fn a_cut_transfer_resumes_once_with_a_range_request() {
    let Some(s) = setup() else { return };
    let spec = big("big:1");
    s.push("big", "1", &spec, Compression::Gzip);
    let proxy = Proxy::start(
        s.pusher.port,
        Rules {
            cuts: AtomicUsize::new(1),
            cut_after: 300_000,
            ..Default::default()
        },
    );
    let host = proxy.host();
    let target = format!("registry://{host}/big:1");
    let j = json_of(&bathy(
        &[&target, "--insecure-registry", &host, "--json", "-"],
        s.path(),
        None,
    ));
    let direct = format!("registry://{}/big:1", s.pusher.host());
    let pusher = s.pusher.host();
    let d = json_of(&bathy(
        &[&direct, "--insecure-registry", &pusher, "--json", "-"],
        s.path(),
        None,
    ));
    assert_eq!(layers(&j), layers(&d));
    let ranges: Vec<String> = proxy.seen().into_iter().filter_map(|r| r.range).collect();
    assert_eq!(ranges, vec!["bytes=300000-".to_string()]);
}

#[test]
fn a_registry_that_stops_mid_blob_fails_naming_the_layer() {
    let Some(s) = setup() else { return };
    // one layer, so the transfer cut is the only one in flight
    let spec = ImageSpec::new("big:2")
        .layer(LayerSpec::new("ADD blob /").file("data/blob", &filler(2_000_000, 9)));
    s.push("big", "2", &spec, Compression::Gzip);
    // a registry of its own, so stopping it leaves the pusher to the other tests
    let reg = Registry::start(s.path(), &s.storage, None, Auth::Open);
    let proxy = Proxy::start(
        reg.port,
        Rules {
            cuts: AtomicUsize::new(usize::MAX),
            cut_after: 300_000,
            on_cut: Some(Box::new(reg.stopper())),
            ..Default::default()
        },
    );
    let host = proxy.host();
    let target = format!("registry://{host}/big:2");
    let line = failure(&bathy(
        &[&target, "--insecure-registry", &host],
        s.path(),
        None,
    ));
    let digests = layer_digests(&spec, Compression::Gzip);
    let named = digests
        .iter()
        .any(|d| line.contains(d.trim_start_matches("sha256:")));
    assert!(named, "names the layer: {line}");
    assert!(line.contains("after 300000 of"), "{line}");
    assert!(line.contains("resum"), "{line}");
    assert!(
        line.contains(&format!("registry {host}, repository big: layer sha256:")),
        "{line}"
    );
    assert!(
        line.contains("resuming failed: connection refused"),
        "{line}"
    );
}

#[test]
fn redirects_to_storage_carry_no_registry_credentials() {
    let Some(s) = setup() else { return };
    let spec = app("redir:1", 10);
    s.push("redir", "1", &spec, Compression::Gzip);
    let proxy = Proxy::start(
        s.pusher.port,
        Rules {
            require_basic: Some((USER.into(), PASSWORD.into())),
            redirect_blobs: true,
            ..Default::default()
        },
    );
    let host = proxy.host();
    let cfg = s.good_config(&host);
    let target = format!("registry://{host}/redir:1");
    let j = json_of(&bathy(
        &[&target, "--insecure-registry", &host, "--json", "-"],
        s.path(),
        Some(&cfg),
    ));
    assert_eq!(layers(&j).len(), 3);
    let seen = proxy.seen();
    let storage: Vec<_> = seen
        .iter()
        .filter(|r| r.path.starts_with("/storage/"))
        .collect();
    assert_eq!(storage.len(), 4, "config and three layers: {seen:?}");
    assert!(storage.iter().all(|r| !r.authorization), "{seen:?}");
    assert!(
        seen.iter()
            .filter(|r| r.path.contains("/manifests/"))
            .any(|r| r.authorization),
        "{seen:?}"
    );
}

#[test]
fn an_image_pushed_by_skopeo_from_a_docker_archive() {
    let Some(s) = setup() else { return };
    if !tools_present(&["skopeo"]) {
        return;
    }
    let spec = app("skopeo:1", 11);
    let archive = s.path().join("skopeo.tar");
    spec.write(&archive, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write");
    let out = std::process::Command::new("skopeo")
        .args(["copy", "--insecure-policy", "--dest-tls-verify=false"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("docker://{}/skopeo:1", s.pusher.host()))
        .output()
        .expect("run skopeo");
    assert!(out.status.success(), "skopeo: {}", common::stderr(&out));
    let host = s.pusher.host();
    let target = format!("registry://{host}/skopeo:1");
    let j = json_of(&bathy(
        &[&target, "--insecure-registry", &host, "--json", "-"],
        s.path(),
        None,
    ));
    // skopeo compresses what docker save left plain: same files, same diff_ids
    let a = archive.display().to_string();
    let from_archive = json_of(&bathy(&[&a, "--json", "-"], s.path(), None));
    let diff_ids =
        |j: &Value| -> Vec<Value> { layers(j).iter().map(|l| l["diffId"].clone()).collect() };
    assert_eq!(diff_ids(&j), diff_ids(&from_archive));
    let files = |j: &Value| -> Vec<Value> {
        j["layer"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| l["fileList"].clone())
            .collect()
    };
    assert_eq!(files(&j), files(&from_archive));
}

#[test]
fn compare_reads_registry_images_on_either_side() {
    let Some(s) = setup() else { return };
    let host = s.pusher.host();
    for (tag, seed) in [("1", 12), ("2", 13)] {
        s.push(
            "cmp",
            tag,
            &app(&format!("cmp:{tag}"), seed),
            Compression::Gzip,
        );
    }
    let a = format!("registry://{host}/cmp:1");
    let b = format!("registry://{host}/cmp:2");
    let out = bathy(
        &[
            "compare",
            &a,
            &b,
            "--insecure-registry",
            &host,
            "--json",
            "-",
        ],
        s.path(),
        None,
    );
    let j = json_of(&out);
    let text = j.to_string();
    // the first layer is shared, the build layer differs (app/bin has another seed)
    assert!(text.contains("app/bin"), "{text}");
    // and a registry image against an archive of itself: nothing changed
    let archive = s.path().join("cmp1.tar");
    app("cmp:1", 12)
        .write(&archive, ArchiveFormat::DockerOciArchive, Compression::Gzip)
        .expect("write");
    let ar = archive.display().to_string();
    let out = bathy(
        &[
            "compare",
            &ar,
            &a,
            "--insecure-registry",
            &host,
            "--json",
            "-",
        ],
        s.path(),
        None,
    );
    let j = json_of(&out);
    assert!(!j.to_string().contains("app/bin"), "{j}");
}

/// The same app, tags differing only in their last layer.
fn release(tag: &str, last: u64) -> ImageSpec {
    ImageSpec::new(tag)
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file("etc/os-release", b"ID=test\n")
                .file_sized("usr/lib/big.so", 300_000, 1),
        )
        .layer(LayerSpec::new("RUN deps").file_sized("usr/lib/deps.so", 100_000, 2))
        .layer(LayerSpec::new("COPY app /app").file_sized("app/bin", 50_000, last))
}

fn blob_gets(proxy: &Proxy) -> Vec<String> {
    proxy
        .seen()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/blobs/"))
        .map(|r| r.path)
        .collect()
}

#[test]
fn the_layer_cache_changes_no_number_and_the_next_tag_downloads_one_layer() {
    let Some(s) = setup() else { return };
    let (one, two) = (release("rel:1", 10), release("rel:2", 11));
    for (tag, spec) in [("1", &one), ("2", &two)] {
        s.push("rel", tag, spec, Compression::Gzip);
    }
    let proxy = Proxy::start(s.pusher.port, Rules::default());
    let host = proxy.host();
    let cache = s.path().join("cache");
    let c = cache.display().to_string();
    let run = |tag: &str| {
        let target = format!("registry://{host}/rel:{tag}");
        let out = bathy(
            &[
                &target,
                "--insecure-registry",
                &host,
                "--cache-dir",
                &c,
                "--json",
                "-",
            ],
            s.path(),
            None,
        );
        json_of(&out);
        out.stdout
    };
    let cold = run("1");
    assert_eq!(blob_gets(&proxy).len(), 4, "config and three layers");
    let warm = run("1");
    assert!(cold == warm, "cold and warm JSON byte for byte");
    assert_eq!(blob_gets(&proxy).len(), 5, "warm: the config only");
    // the next tag: its config and its one new layer
    let before = blob_gets(&proxy).len();
    let next = run("2");
    let fetched: Vec<String> = blob_gets(&proxy)[before..].to_vec();
    let new_layer = layer_digests(&two, Compression::Gzip)[2].clone();
    assert_eq!(fetched.len(), 2, "{fetched:?}");
    assert!(
        fetched.iter().any(|p| p.ends_with(&new_layer)),
        "{fetched:?}"
    );
    // and it reads as it does with no cache at all
    let target = format!("registry://{host}/rel:2");
    let uncached = bathy(
        &[
            &target,
            "--insecure-registry",
            &host,
            "--no-cache",
            "--json",
            "-",
        ],
        s.path(),
        None,
    );
    json_of(&uncached);
    assert!(
        next == uncached.stdout,
        "cached and uncached JSON byte for byte"
    );
}

#[test]
fn two_processes_share_one_cache() {
    let Some(s) = setup() else { return };
    let spec = release("pair:1", 20);
    s.push("pair", "1", &spec, Compression::Gzip);
    let host = s.pusher.host();
    let target = format!("registry://{host}/pair:1");
    let cache = s.path().join("shared-cache");
    let c = cache.display().to_string();
    let args = [
        target.as_str(),
        "--insecure-registry",
        &host,
        "--cache-dir",
        &c,
        "--json",
        "-",
    ];
    let outs: Vec<Output> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..2)
            .map(|_| sc.spawn(|| bathy(&args, s.path(), None)))
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let first = json_of(&outs[0]);
    assert_eq!(first, json_of(&outs[1]));
    assert!(outs[0].stdout == outs[1].stdout);
    let warm = bathy(&args, s.path(), None);
    assert!(warm.stdout == outs[0].stdout, "warm run byte for byte");
    let entries: Vec<_> = std::fs::read_dir(cache.join("layers"))
        .expect("cache written")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        entries.len(),
        3,
        "one entry per layer, no temporaries: {entries:?}"
    );
}

#[test]
fn archives_use_the_cache_and_still_check_their_blobs() {
    let Some(s) = setup() else { return };
    let spec = release("arch:1", 30);
    let archive = s.path().join("arch.tar");
    spec.write(&archive, ArchiveFormat::DockerOciArchive, Compression::Gzip)
        .expect("write");
    let a = archive.display().to_string();
    let c = s.path().join("cache").display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![a.as_str(), "--cache-dir", c.as_str(), "--json", "-"];
        args.extend_from_slice(extra);
        bathy(&args, s.path(), None)
    };
    let cold = run(&[]);
    json_of(&cold);
    let stored = std::fs::read_dir(s.path().join("cache/layers"))
        .expect("cache written")
        .count();
    assert_eq!(stored, 3, "one entry per layer");
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).to_string();
    let warm = run(&[]);
    assert_eq!(text(&cold), text(&warm));
    let uncached = bathy(&[&a, "--no-cache", "--json", "-"], s.path(), None);
    assert_eq!(text(&cold), text(&uncached));
    // a blob changed in place under the same name is still caught on a warm cache
    let mut members = spec.members(ArchiveFormat::DockerOciArchive, Compression::Gzip);
    let victim = members
        .iter_mut()
        .find(|m| m.name.starts_with("blobs/") && m.data.len() > 50_000 && m.data[0] == 0x1f)
        .expect("a gzip layer blob");
    let n = victim.data.len();
    victim.data[n / 2] ^= 0xff;
    std::fs::write(&archive, bathyscaphe::testkit::tar_members(&members)).expect("write");
    let line = failure(&run(&[]));
    assert!(
        line.contains("mismatch") || line.contains("corrupt"),
        "{line}"
    );
}

/// The blob sizes of `spec`'s layers compressed with `c`, in order.
fn layer_sizes(spec: &ImageSpec, c: Compression) -> Vec<u64> {
    spec.layers
        .iter()
        .map(|l| compress(&l.tar(), c).len() as u64)
        .collect()
}

#[test]
fn each_layer_download_is_counted_in_bytes() {
    use bathyscaphe::progress::Progress;
    use bathyscaphe::source::registry::{self, RegistrySettings};
    let Some(s) = setup() else { return };
    let spec = big("big:3");
    s.push("big", "3", &spec, Compression::Gzip);
    let host = s.pusher.host();
    let progress = std::sync::Arc::new(Progress::new());
    let opts = bathyscaphe::source::LoadOptions {
        progress: Some(progress.clone()),
        ..Default::default()
    };
    let settings = RegistrySettings {
        insecure: vec![host.clone()],
        credentials: Some(Default::default()),
        ..Default::default()
    };
    registry::load(&format!("{host}/big:3"), &settings, &opts).expect("load");
    let mut got: Vec<(String, u64, u64)> = progress
        .downloads()
        .into_iter()
        .map(|d| (d.digest, d.size, d.received))
        .collect();
    got.sort();
    let mut want: Vec<(String, u64, u64)> = layer_digests(&spec, Compression::Gzip)
        .into_iter()
        .zip(layer_sizes(&spec, Compression::Gzip))
        .map(|(d, n)| (d, n, n))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // the total counts the same bytes
    let total: u64 = want.iter().map(|w| w.1).sum();
    assert_eq!(progress.snapshot().bytes_read, total);
}

#[test]
fn a_terminal_sees_each_layer_download_on_stderr() {
    let Some(s) = setup() else { return };
    if !common::require_tool(&common::SCRIPT) {
        return;
    }
    // 2 MB in 16 KiB steps 10 ms apart: over a second, several ticks of the status line
    let (spec, proxy) = s.push_big_behind_throttle("4", 10);
    let host = proxy.host();
    let cmd = format!(
        "{} registry://{host}/big:4 --insecure-registry {host} --no-cache --json /dev/null",
        env!("CARGO_BIN_EXE_bathy")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(s.path())
        .env_remove("CI")
        .env("HOME", s.path())
        .env("DOCKER_CONFIG", s.path().join("no-docker-config"))
        .env("NO_PROXY", "*")
        .env("COLUMNS", "200")
        .output()
        .expect("run script");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    // the big layer by its short digest, with its bytes received of its size
    let digest = &layer_digests(&spec, Compression::Gzip)[1];
    let size = bathyscaphe::units::human_bytes(layer_sizes(&spec, Compression::Gzip)[1]);
    let short = &digest["sha256:".len().."sha256:".len() + 12];
    let shown: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|l| l.contains(short))
        .collect();
    assert!(!shown.is_empty(), "no line names layer {short}: {text:?}");
    let want = format!(" / {size}");
    assert!(
        shown
            .iter()
            .all(|l| l.contains("loading: layer") && l.contains(&want)),
        "{shown:?}"
    );
}

/// The explorer's loading gauge, in a real terminal (tmux), lists the layer downloading.
#[cfg(feature = "tui")]
#[test]
fn the_explorer_gauge_shows_each_layer_download() {
    let Some(s) = setup() else { return };
    if !common::require_tool(&common::TMUX) {
        return;
    }
    // 2 MB in 16 KiB steps 20 ms apart: over two seconds of loading screen
    let (spec, proxy) = s.push_big_behind_throttle("5", 20);
    let host = proxy.host();
    // computed first: compressing 2 MB takes a while in a debug build
    let digest = &layer_digests(&spec, Compression::Gzip)[1];
    let short = &digest["sha256:".len().."sha256:".len() + 12];
    let size = bathyscaphe::units::human_bytes(layer_sizes(&spec, Compression::Gzip)[1]);
    let socket = format!("bathy-reg-{}", std::process::id());
    let t = common::tmux::Tmux {
        socket,
        session: "reg",
    };
    let home = s.path().display().to_string();
    let shell = common::tmux::explorer_on_registry(&home, &host, "big:5");
    t.start(100, 30, &shell);
    let start = std::time::Instant::now();
    let mut screen = String::new();
    let mut seen = None;
    while start.elapsed() < std::time::Duration::from_secs(20) {
        screen = t.capture();
        if let Some(l) = screen
            .lines()
            .find(|l| l.contains("downloading") && l.contains(short))
        {
            seen = Some(l.to_string());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = t.cmd(&["kill-server"]);
    let line = seen.unwrap_or_else(|| panic!("no download line for {short}:\n{screen}"));
    assert!(line.contains(&format!(" / {size}")), "{line}");
}

// ---- reading one file's bytes: `bathy cat` and `bathy diff` fetch the layer again ----------

/// `/etc/app.conf` written by layer 0 and changed by layer 1; big files around it.
fn conf(tag: &str) -> ImageSpec {
    ImageSpec::new(tag)
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file("etc/app.conf", b"name=demo\nmode=slow\nport=80\n")
                .file_sized("usr/lib/big.so", 300_000, 1),
        )
        .layer(
            LayerSpec::new("RUN configure")
                .file("etc/app.conf", b"name=demo\nmode=fast\nport=80\n"),
        )
        .layer(LayerSpec::new("RUN build").file_sized("app/bin", 200_000, 3))
}

#[test]
fn cat_and_diff_over_tls_with_basic_auth_give_the_bytes_written() {
    let Some(s) = setup() else { return };
    let spec = conf("conf:1");
    s.push("conf", "1", &spec, Compression::Gzip);
    let reg = s.secure();
    let cfg = s.good_config(&reg.host());
    let target = format!("registry://{}/conf:1", reg.host());
    let ca = s.ca();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--cert-dir", &ca, "--no-cache"]);
        bathy(&all, s.path(), Some(&cfg))
    };
    let top = run(&["cat", &target, "/etc/app.conf"]);
    assert!(top.status.success(), "{}", common::stderr(&top));
    assert_eq!(top.stdout, b"name=demo\nmode=fast\nport=80\n");
    let first = run(&["cat", &target, "/etc/app.conf", "--layer", "0"]);
    assert!(first.status.success(), "{}", common::stderr(&first));
    assert_eq!(first.stdout, b"name=demo\nmode=slow\nport=80\n");
    let big = run(&["cat", &target, "/app/bin"]);
    assert!(big.status.success(), "{}", common::stderr(&big));
    assert!(
        big.stdout == filler(200_000, 3),
        "the bytes the helper wrote"
    );
    let diff = run(&["diff", &target, "/etc/app.conf"]);
    assert!(diff.status.success(), "{}", common::stderr(&diff));
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(text.contains("-mode=slow\n+mode=fast\n"), "{text}");
    assert!(
        text.contains("(layer 0)") && text.contains("(layer 1)"),
        "{text}"
    );
    // piped stderr: no progress line, nothing at all
    assert!(
        common::stderr(&top).trim().is_empty(),
        "{}",
        common::stderr(&top)
    );
}

#[test]
fn cat_fetches_again_only_the_zstd_layer_it_reads() {
    let Some(s) = setup() else { return };
    let spec = conf("zconf:1");
    s.push("zconf", "1", &spec, Compression::Zstd);
    let proxy = Proxy::start(s.pusher.port, Rules::default());
    let host = proxy.host();
    let target = format!("registry://{host}/zconf:1");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--insecure-registry", &host, "--no-cache"]);
        bathy(&all, s.path(), None)
    };
    let digests = layer_digests(&spec, Compression::Zstd);
    let out = run(&["cat", &target, "/etc/app.conf"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(out.stdout, b"name=demo\nmode=fast\nport=80\n");
    let gets = blob_gets(&proxy);
    // the load: the config and three layers; then the config and layer 1 again, nothing else
    assert_eq!(gets.len(), 6, "{gets:?}");
    assert_eq!(gets[4], gets[0], "the config");
    assert!(gets[5].ends_with(&digests[1]), "{gets:?}");
    let diff = run(&["diff", &target, "/etc/app.conf", "--from", "0", "--to", "1"]);
    assert!(diff.status.success(), "{}", common::stderr(&diff));
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(text.contains("-mode=slow\n+mode=fast\n"), "{text}");
    let gets = blob_gets(&proxy)[6..].to_vec();
    assert_eq!(gets.len(), 7, "{gets:?}");
    let again: Vec<&String> = gets[5..].iter().collect();
    assert!(again.iter().any(|g| g.ends_with(&digests[0])), "{gets:?}");
    assert!(again.iter().any(|g| g.ends_with(&digests[1])), "{gets:?}");
}

#[test]
fn a_registry_gone_before_the_layer_is_fetched_again_is_one_line() {
    let Some(s) = setup() else { return };
    let spec = conf("conf:2");
    s.push("conf", "2", &spec, Compression::Gzip);
    // the layers parsed once into a cache (by a `cat`, which keeps no contents): the next
    // load downloads none of them
    let cache = s.path().join("cache-gone").display().to_string();
    let pusher = s.pusher.host();
    let warm = bathy(
        &[
            "cat",
            &format!("registry://{pusher}/conf:2"),
            "/etc/app.conf",
            "--insecure-registry",
            &pusher,
            "--cache-dir",
            &cache,
        ],
        s.path(),
        None,
    );
    assert!(warm.status.success(), "{}", common::stderr(&warm));
    // a registry of its own behind a proxy that stops it at the first blob byte past the config
    let reg = Registry::start(s.path(), &s.storage, None, Auth::Open);
    let proxy = Proxy::start(
        reg.port,
        Rules {
            cuts: AtomicUsize::new(usize::MAX),
            cut_after: 20_000,
            on_cut: Some(Box::new(reg.stopper())),
            ..Default::default()
        },
    );
    let host = proxy.host();
    let target = format!("registry://{host}/conf:2");
    let line = failure(&bathy(
        &[
            "cat",
            &target,
            "/usr/lib/big.so",
            "--insecure-registry",
            &host,
            "--cache-dir",
            &cache,
        ],
        s.path(),
        None,
    ));
    let digest = &layer_digests(&spec, Compression::Gzip)[0];
    assert!(
        line.contains(&format!("registry://{host}/conf:2: layer 0 of 3")),
        "{line}"
    );
    assert!(line.contains(digest.as_str()), "{line}");
    assert!(line.contains("connection refused"), "{line}");
}

/// The explorer's viewer on a registry's image, in a real terminal (tmux): the layer is
/// fetched again with a progress line, then the file's first line shows.
#[cfg(feature = "tui")]
#[test]
fn the_viewer_fetches_the_layer_again_and_shows_the_file() {
    let Some(s) = setup() else { return };
    if !common::require_tool(&common::TMUX) {
        return;
    }
    s.push("vconf", "1", &conf("vconf:1"), Compression::Gzip);
    // blobs in 16 KiB steps 40 ms apart: fetching layer 0 (300 kB) takes most of a second
    let rules = Rules {
        throttle: Some(std::time::Duration::from_millis(40)),
        ..Default::default()
    };
    let proxy = Proxy::start(s.pusher.port, rules);
    let host = proxy.host();
    let t = common::tmux::Tmux {
        socket: format!("bathy-regview-{}", std::process::id()),
        session: "regview",
    };
    let home = s.path().display().to_string();
    let shell = common::tmux::explorer_on_registry(&home, &host, "vconf:1");
    t.start(120, 30, &shell);
    // loaded: every layer read (the viewer opens once the load is over)
    let start = std::time::Instant::now();
    loop {
        let s = t.capture();
        let loading = s.contains("layers read") || s.contains("layers shown");
        if s.contains("app.conf") && s.contains("RUN build") && !loading {
            break;
        }
        assert!(start.elapsed().as_secs() < 30, "the load did not end:\n{s}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // the file alone through the filter, then the viewer on it
    t.keys(&["/"]);
    t.keys(&["-l", "app.conf"]);
    t.wait_for(&["Filter: app.conf"])
        .unwrap_or_else(|s| panic!("no filter:\n{s}"));
    t.keys(&["Enter", "End", "v"]);
    // the layers are indexed for reading just after the load: until then `v` says so
    for _ in 0..50 {
        let s = t.capture();
        if !s.contains("still being indexed") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        t.keys(&["v"]);
    }
    let fetching = t.wait_for(&["fetching layer 0 of 3 from registry://"]);
    let s = t
        .wait_for(&["name=demo", "mode=slow"])
        .unwrap_or_else(|s| panic!("the file did not show:\n{s}"));
    assert!(fetching.is_ok(), "no progress line before:\n{s}");
    // the fetched layer sat in a private directory under TMPDIR, gone once the explorer quits
    let kept = || {
        std::fs::read_dir(s_path(&home))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with("bathy-"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(kept(), 1);
    t.keys(&["q"]);
    t.keys(&["q"]);
    t.wait_for(&["EXIT=0"])
        .unwrap_or_else(|s| panic!("bathy did not exit cleanly:\n{s}"));
    assert_eq!(kept(), 0);
}

#[cfg(feature = "tui")]
fn s_path(home: &str) -> PathBuf {
    PathBuf::from(home)
}

/// The explorer's extract key (`Ctrl-E`) on a registry's image: read through the layers the
/// viewer opened, so only the layer holding the file is fetched again, into the private
/// directory, and the file written is the bytes the helper wrote.
#[cfg(feature = "tui")]
#[test]
fn extract_fetches_again_only_the_layer_of_the_file() {
    use bathyscaphe::pipeline::{LoadArgs, LoadConfig};
    use bathyscaphe::tui::state::Effect;
    let Some(s) = setup() else { return };
    let spec = conf("xconf:1");
    s.push("xconf", "1", &spec, Compression::Gzip);
    let proxy = Proxy::start(s.pusher.port, Rules::default());
    let host = proxy.host();
    let target = format!("registry://{host}/xconf:1");
    let config = LoadConfig::from_args(&LoadArgs {
        insecure_registry: vec![host.clone()],
        no_cache: true,
        ..Default::default()
    });
    let layers = bathyscaphe::contents::layer_files(&target, &config).unwrap();
    let out = tempfile::tempdir().unwrap();
    let activity = bathyscaphe::source::refetch::Activity::new();
    let e = Effect::Extract {
        layer: 2,
        path: "/app/bin".into(),
        name: "bin".into(),
        size: 200_000,
        entry: None,
    };
    let msg = bathyscaphe::tui::extract_file(&layers, &e, out.path(), &activity);
    assert_eq!(msg, "extracted /app/bin to ./bin (200 kB)");
    let written = std::fs::read(out.path().join("bin")).unwrap();
    assert!(written == filler(200_000, 3), "the bytes the helper wrote");
    let digests = layer_digests(&spec, Compression::Gzip);
    let gets = blob_gets(&proxy);
    // the config (to plan the image), then layer 2 alone
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(gets[1].ends_with(&digests[2]), "{gets:?}");
    // a file of layer 0: that layer fetched, once
    let e = Effect::Extract {
        layer: 0,
        path: "/etc/app.conf".into(),
        name: "app.conf".into(),
        size: 28,
        entry: None,
    };
    let msg = bathyscaphe::tui::extract_file(&layers, &e, out.path(), &activity);
    assert!(msg.starts_with("extracted /etc/app.conf"), "{msg}");
    assert_eq!(
        std::fs::read(out.path().join("app.conf")).unwrap(),
        b"name=demo\nmode=slow\nport=80\n"
    );
    let gets = blob_gets(&proxy);
    assert_eq!(gets.len(), 3, "{gets:?}");
    assert!(gets[2].ends_with(&digests[0]), "{gets:?}");
    // what it fetched goes with the layers (the explorer closing)
    layers.discard();
    let again = bathyscaphe::tui::extract_file(&layers, &e, out.path(), &activity);
    assert!(again.starts_with("extract failed"), "{again}");
}
