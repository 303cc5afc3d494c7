//! Reading images from a real Docker daemon: an imported testkit archive reads the same through
//! the daemon as from disk; an image built by the daemon reads with its layers, history and files;
//! a missing image and an unreachable daemon give their one-line errors and exit 2.
//! The daemon tests run when a daemon answers (`.ci/run` starts one); without one they skip, or
//! fail under CI=true (see `tests/common/require.rs`).
#![cfg(feature = "daemon")]

mod common;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::daemon::{self, Connection};
use bathyscaphe::source::reference::Engine;
use bathyscaphe::source::{load_path, load_stream, LoadOptions};
use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tree::MergedTree;
use bollard::query_parameters::{BuildImageOptions, ListImagesOptions, RemoveImageOptions};
use bollard::Docker;
use common::*;
use futures_util::StreamExt;
use std::io::{Read, Write};
use std::path::Path;

/// A tag no other run uses, so parallel runs and leftovers never collide.
fn unique_tag(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("bathy-test/{what}:{}-{nanos}", std::process::id())
}

/// The daemon as bollard sees it, for setting images up and removing them again.
struct TestDaemon {
    rt: tokio::runtime::Runtime,
    docker: Docker,
    tags: Vec<String>,
    /// `bathy-test=VALUE` labels that mark a build's stage images, removed at the end too.
    labels: Vec<String>,
}

impl TestDaemon {
    fn connect() -> TestDaemon {
        let (rt, docker) = common::docker::connect();
        TestDaemon {
            rt,
            docker,
            tags: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// `docker load` through the API (POST /images/load).
    fn import(&mut self, archive: Vec<u8>, tag: &str) {
        common::docker::load(&self.rt, &self.docker, archive);
        self.tags.push(tag.to_string());
    }

    /// `docker build` through the API with the classic builder, from an in-memory context whose
    /// Dockerfile labels every stage `bathy-test=<label>` (so the build stage's images go too).
    fn build(&mut self, context: Vec<u8>, tag: &str, label: &str) -> String {
        self.labels.push(format!("bathy-test={label}"));
        let opts = BuildImageOptions {
            dockerfile: "Dockerfile".into(),
            t: Some(tag.to_string()),
            rm: true,
            forcerm: true,
            nocache: true,
            ..Default::default()
        };
        let out: Vec<_> = self.rt.block_on(
            self.docker
                .build_image(opts, None, Some(bollard::body_full(context.into())))
                .collect(),
        );
        self.tags.push(tag.to_string());
        let mut log = String::new();
        for item in out {
            let info = item.unwrap_or_else(|e| panic!("build failed: {e}\n{log}"));
            assert!(info.error_detail.is_none(), "build failed: {info:?}\n{log}");
            log.push_str(info.stream.as_deref().unwrap_or_default());
        }
        log
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        for t in &self.tags {
            let opts = RemoveImageOptions {
                force: true,
                noprune: false,
                ..Default::default()
            };
            let _ = self
                .rt
                .block_on(self.docker.remove_image(t, Some(opts), None));
        }
        for label in &self.labels {
            let filters =
                std::collections::HashMap::from([("label".to_string(), vec![label.clone()])]);
            let list = ListImagesOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            };
            let Ok(images) = self.rt.block_on(self.docker.list_images(Some(list))) else {
                continue;
            };
            for i in images {
                let opts = RemoveImageOptions {
                    force: true,
                    noprune: false,
                    ..Default::default()
                };
                let _ = self
                    .rt
                    .block_on(self.docker.remove_image(&i.id, Some(opts), None));
            }
        }
    }
}

/// A report as JSON without what names where it was read from.
fn report_without_origin(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).expect("json report");
    let b = v
        .get_mut("bathyscaphe")
        .and_then(|b| b.as_object_mut())
        .expect("bathyscaphe object");
    b.remove("source");
    // Docker 25+ exports an OCI layout where 20.10 exported the legacy one: same image
    b.remove("format");
    if let Some(img) = b.get_mut("image").and_then(|i| i.as_object_mut()) {
        // only a daemon knows these
        img.remove("id");
        img.remove("repoDigests");
    }
    // dive's layer "id" is the legacy v1 id, the name of the layer's directory in the archive:
    // `docker save` derives it anew, so it names the archive, not the layer
    for l in v
        .get_mut("layer")
        .and_then(|l| l.as_array_mut())
        .into_iter()
        .flatten()
    {
        if let Some(l) = l.as_object_mut() {
            l.remove("id");
        }
    }
    v
}

fn json_report(args: &[&str]) -> String {
    let o = run(args, Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(o.status.code(), Some(0), "bathy {args:?}: {}", stderr(&o));
    stdout(&o)
}

fn imported_story(tag: &str) -> ImageSpec {
    ImageSpec::new(tag)
        .layer(
            LayerSpec::new("ADD rootfs /")
                .dir("usr")
                .dir("usr/bin")
                .file_sized("usr/bin/tool", 4000, 1)
                .symlink("bin", "usr/bin")
                .hardlink("usr/bin/tool2", "usr/bin/tool"),
        )
        .layer(
            LayerSpec::new("RUN fetch")
                .dir("var")
                .dir("var/cache")
                .file_sized("var/cache/pkg.deb", 3000, 2)
                .file_sized("etc-conf", 500, 3),
        )
        .layer(
            LayerSpec::new("RUN rm -rf /var/cache && edit")
                .after_empty("ENV A=1")
                .whiteout("var/cache")
                .file_sized("etc-conf", 700, 4),
        )
        .cmd(&["/bin/tool"])
        .trailing("CMD [\"/bin/tool\"]")
}

#[test]
fn an_imported_archive_reads_the_same_through_the_daemon_as_from_disk() {
    if !require_docker() {
        return;
    }
    let mut d = TestDaemon::connect();
    let tag = unique_tag("import");
    let spec = imported_story(&tag);
    let t = tmp();
    let file = t.path().join("story.tar");
    spec.write(&file, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write archive");
    d.import(std::fs::read(&file).expect("read archive"), &tag);

    let from_disk = json_report(&["--json", "-", file.to_str().expect("utf-8 path")]);
    let by_name = json_report(&["--json", "-", &tag]);
    let by_scheme = json_report(&["--json", "-", &format!("docker://{tag}")]);
    let by_flag = json_report(&["--json", "-", "--source", "docker", &tag]);
    let disk = report_without_origin(&from_disk);
    assert_eq!(
        report_without_origin(&by_name),
        disk,
        "layers, entries, sizes and waste must not depend on where the image came from"
    );
    assert_eq!(report_without_origin(&by_scheme), disk);
    assert_eq!(report_without_origin(&by_flag), disk);

    // and the numbers themselves, by hand: shipped 4000 + 3000 + 500 + 700 = 8200 (the hardlink
    // ships no bytes of its own); visible tool 4000 + etc-conf 700 = 4700; wasted: the deleted
    // cache 3000 + the first etc-conf 500 = 3500
    let v: serde_json::Value = serde_json::from_str(&by_name).expect("json");
    let b = &v["bathyscaphe"];
    assert_eq!(b["shippedBytes"], 8200);
    assert_eq!(b["finalBytes"], 4700);
    assert_eq!(b["trueWastedBytes"], 3500);
    assert_eq!(b["layers"].as_array().map(Vec::len), Some(3));
    assert_eq!(b["source"], format!("docker://{tag}"));
    assert_eq!(b["image"]["tags"][0], tag.as_str());

    // what only inspect knows: the image id is the config digest
    let img = daemon::load(Engine::Docker, &tag, &LoadOptions::default())
        .expect("load through the daemon");
    let info = img.daemon.as_ref().expect("daemon facts");
    assert_eq!(info.id, img.config_digest);
    assert_eq!(b["image"]["id"], info.id.as_str());
    assert!(info.repo_tags.contains(&tag), "{:?}", info.repo_tags);
    assert!(info.engine.starts_with("docker "), "{}", info.engine);
    assert_eq!(img.layers[2].empty_history.len(), 1);
}

#[test]
fn tags_come_from_inspect_when_the_export_has_none() {
    if !require_docker() {
        return;
    }
    let mut d = TestDaemon::connect();
    let tag = unique_tag("byid");
    let spec = ImageSpec::new(&tag).layer(LayerSpec::new("ADD x /").file("x", b"by id\n"));
    d.import(
        spec.archive(ArchiveFormat::DockerArchive, Compression::None),
        &tag,
    );
    let by_tag = daemon::load(Engine::Docker, &tag, &LoadOptions::default()).expect("by tag");
    // exported by id, the archive names no tag: inspect does
    let img = daemon::load(
        Engine::Docker,
        &by_tag.config_digest,
        &LoadOptions::default(),
    )
    .expect("by id");
    assert_eq!(img.tags, vec![tag.clone()]);
    assert_eq!(img.layers.len(), 1);
}

/// A tar of the build context: Dockerfile and the files it copies.
fn context(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append_data(&mut h, name, *data).expect("in-memory tar");
    }
    b.into_inner().expect("in-memory tar")
}

#[test]
fn a_multi_stage_build_reads_with_its_layers_history_and_files() {
    if !require_docker() {
        return;
    }
    let mut d = TestDaemon::connect();
    // no registry here: every stage starts from scratch
    let label = unique_tag("label").replace(['/', ':'], "-");
    let dockerfile = format!(
        "FROM scratch AS build\n\
LABEL bathy-test={label}\n\
COPY hello.txt /src/hello.txt\n\
COPY big.bin /src/big.bin\n\
\n\
FROM scratch\n\
LABEL bathy-test={label}\n\
COPY --from=build /src/hello.txt /app/hello.txt\n\
COPY --from=build /src/big.bin /app/data/big.bin\n\
ENV GREETING=hi\n\
COPY extra.txt /app/hello.txt\n\
CMD [\"/app/run\"]\n"
    );
    let big = filler(30_000, 7);
    let ctx = context(&[
        ("Dockerfile", dockerfile.as_bytes()),
        ("hello.txt", b"hello\n"),
        ("big.bin", &big),
        ("extra.txt", b"goodbye, world\n"),
    ]);
    let tag = unique_tag("build");
    d.build(ctx, &tag, &label);

    let img =
        daemon::load(Engine::Docker, &tag, &LoadOptions::default()).expect("load the built image");
    // the final stage only: three COPY layers, ENV before the third, CMD after it
    assert_eq!(
        img.layers.len(),
        3,
        "{:#?}",
        img.layers
            .iter()
            .map(|l| l.display_command())
            .collect::<Vec<_>>()
    );
    let created_by: Vec<String> = img
        .layers
        .iter()
        .map(|l| {
            l.history
                .as_ref()
                .and_then(|h| h.created_by.clone())
                .unwrap_or_default()
        })
        .collect();
    for (cb, dest) in
        created_by
            .iter()
            .zip(["/app/hello.txt", "/app/data/big.bin", "/app/hello.txt"])
    {
        assert!(
            cb.starts_with("/bin/sh -c #(nop) COPY file:")
                && cb.trim_end().ends_with(&format!(" in {dest}")),
            "{cb}"
        );
    }
    // LABEL before the first COPY, ENV before the third
    assert_eq!(img.layers[0].empty_history.len(), 1);
    assert!(img.layers[0].empty_history[0]
        .created_by
        .as_deref()
        .unwrap_or_default()
        .contains("LABEL bathy-test="));
    assert_eq!(img.layers[2].empty_history.len(), 1);
    assert!(img.layers[2].empty_history[0]
        .created_by
        .as_deref()
        .unwrap_or_default()
        .contains("ENV GREETING=hi"));
    assert_eq!(img.trailing_history.len(), 1);
    assert!(img.trailing_history[0]
        .created_by
        .as_deref()
        .unwrap_or_default()
        .contains("CMD [\"/app/run\"]"));
    let run = img.config.config.as_ref().expect("run config");
    assert_eq!(run.cmd.as_deref(), Some(&["/app/run".to_string()][..]));
    assert!(run.env.iter().flatten().any(|e| e == "GREETING=hi"));
    // nothing of the build stage's own layers made it in
    assert!(img.paths.lookup("src").is_none());

    // files: hello.txt's first copy (6 bytes) is replaced by extra.txt (15 bytes); big.bin is
    // the context's 30000 bytes
    let tree = MergedTree::build(&img);
    let final_size = |p: &str| {
        let node = img.paths.lookup(p).unwrap_or_else(|| panic!("{p} missing"));
        let v = tree
            .final_state(node)
            .unwrap_or_else(|| panic!("{p} not in the final filesystem"));
        bathyscaphe::tree::entry_of(&img, v).map(|e| e.size)
    };
    assert_eq!(final_size("app/hello.txt"), Some(15));
    assert_eq!(final_size("app/data/big.bin"), Some(30_000));
    // shipped 6 + 30000 + 15 = 30021, visible 30015, wasted the first hello.txt: 6
    let a = Analysis::run(&img);
    assert_eq!(a.waste.shipped_bytes, 30_021);
    assert_eq!(a.waste.final_bytes, 30_015);
    assert_eq!(a.waste.wasted_bytes, 6);

    // stage attribution of the real build, by the Dockerfile: both `COPY --from=build` layers
    // are the build stage's; the last COPY is the final (unnamed, second) stage's own
    let t = tmp();
    let df = t.path().join("Dockerfile");
    std::fs::write(&df, &dockerfile).expect("write Dockerfile");
    let json = json_report(&[
        "--json",
        "-",
        "--dockerfile",
        df.to_str().expect("utf-8 path"),
        &tag,
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let stages = v["bathyscaphe"]["stages"].as_array().expect("stages");
    assert_eq!(stages.len(), 3);
    for (i, want_stage, want_from) in [
        (0, "build", Some("build")),
        (1, "build", Some("build")),
        (2, "stage-1", None),
    ] {
        let s = &stages[i];
        assert_eq!(s["origin"], "build", "{s}");
        assert_eq!(s["stage"], want_stage, "{s}");
        assert_eq!(s["copyFrom"].as_str(), want_from, "{s}");
        assert_eq!(s["inferred"], false, "{s}");
    }
    assert!(
        stages[0]["instruction"]
            .as_str()
            .unwrap_or_default()
            .contains("COPY --from=build /src/hello.txt /app/hello.txt"),
        "{}",
        stages[0]
    );
    assert!(
        stages[2]["instruction"]
            .as_str()
            .unwrap_or_default()
            .contains("COPY extra.txt /app/hello.txt"),
        "{}",
        stages[2]
    );
    // without the Dockerfile the legacy builder's history says nothing of stages: inferred
    let json = json_report(&["--json", "-", &tag]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let stages = v["bathyscaphe"]["stages"].as_array().expect("stages");
    assert!(stages.iter().all(|s| s["inferred"] == true), "{stages:?}");
}

#[test]
fn a_missing_image_is_one_line_and_exit_2() {
    if !require_docker() {
        return;
    }
    let name = unique_tag("missing");
    let endpoint = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    let o = run(&[&name], Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!("bathy: {name}: no such image in the Docker daemon at {endpoint} (pull it, or run again with --pull)\n")
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn an_unreachable_daemon_is_one_line_and_exit_2() {
    // needs no daemon: that is the point
    let t = tmp();
    let dead = t.path().join("dead.sock");
    // a socket file that nobody listens on any more
    drop(std::os::unix::net::UnixListener::bind(&dead).expect("bind"));
    let host = format!("unix://{}", dead.display());
    let o = bathy()
        .args(["--json", "-", "some/app:1"])
        .env("DOCKER_HOST", &host)
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), format!("bathy: cannot connect to the Docker daemon at {host}: connection refused (is the daemon running?)\n"));
    assert!(stdout(&o).is_empty());

    let gone = format!("unix://{}", t.path().join("never.sock").display());
    let o = bathy()
        .args(["docker://some/app:1"])
        .env("DOCKER_HOST", &gone)
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), format!("bathy: cannot connect to the Docker daemon at {gone}: no such socket (is the daemon running?)\n"));

    let o = bathy()
        .args(["--pull", "some/app:1"])
        .env("DOCKER_HOST", &host)
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("bathy: cannot connect to the Docker daemon at "),
        "{}",
        stderr(&o)
    );

    // and the library says the same with Error::Daemon
    let e = Connection::open_at(Engine::Docker, &host)
        .err()
        .expect("no daemon there");
    assert!(matches!(e, bathyscaphe::Error::Daemon(_)));
}

/// A reader that hands over a few bytes at a time, as a network stream may.
struct Trickle<R>(R, usize);
impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1 = self.1 % 7 + 1;
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn a_stream_in_small_pieces_reads_like_the_file() {
    // regression: layer sniffing took the first read for the whole head and called a layer
    // "not a tar" when a stream handed over fewer than 512 bytes
    let t = tmp();
    let file = t.path().join("story.tar");
    imported_story("story:1")
        .write(&file, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write");
    let disk = load_path(&file, &LoadOptions::default()).expect("from disk");
    let streamed = load_stream(
        Trickle(std::fs::File::open(&file).expect("open"), 0),
        "stream",
        &LoadOptions::default(),
    )
    .expect("from stream");
    let report = |img: &bathyscaphe::image::Image| {
        let mut r = bathyscaphe::report::json::bathy_report(img, &Analysis::run(img));
        r.source.clear();
        serde_json::to_value(r).expect("json")
    };
    assert_eq!(report(&streamed), report(&disk));
}

/// What the stand-in daemon does when asked for the export.
#[derive(Clone, Copy)]
enum Export {
    /// Send this many bytes of a real archive in a chunked body, then drop the connection.
    DieAfter(usize),
    /// A complete, well-formed HTTP body that is not an image.
    Garbage,
    /// The whole archive the first time; later exports stop after this many bytes.
    WholeThenDieAfter(usize),
}

/// A stand-in for a daemon that fails in ways a real one cannot be made to on demand: it
/// answers `/version` and inspect like Docker 20.10, then breaks the export. Everything else
/// in this file talks to the real dockerd.
fn failing_daemon(dir: &Path, archive: Vec<u8>, export: Export) -> String {
    use std::io::BufRead;
    let sock = dir.join("failing.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    std::thread::spawn(move || {
        let mut exports = 0;
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut rd = std::io::BufReader::new(conn.try_clone().expect("clone"));
            let mut request_line = String::new();
            if rd.read_line(&mut request_line).is_err() {
                continue;
            }
            // skip the headers; bollard sends no body with these GETs
            let mut line = String::new();
            while rd.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let json = |body: String| {
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
            };
            if path.ends_with("/version") {
                let _ = conn.write_all(
                    json(
                        r#"{"Version":"20.10.0","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#
                            .into(),
                    )
                    .as_bytes(),
                );
            } else if path.ends_with("/json") {
                let body = format!(
                    r#"{{"Id":"sha256:{}","RepoTags":["fake/app:1"],"Size":{}}}"#,
                    "ab".repeat(32),
                    archive.len()
                );
                let _ = conn.write_all(json(body).as_bytes());
            } else if path.ends_with("/get") {
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n");
                exports += 1;
                let whole = matches!(export, Export::WholeThenDieAfter(_)) && exports == 1;
                let body: Vec<u8> = match export {
                    _ if whole => archive.clone(),
                    Export::DieAfter(n) | Export::WholeThenDieAfter(n) => archive[..n].to_vec(),
                    Export::Garbage => {
                        b"this is not a tar archive, it only looks like a body. ".repeat(40)
                    }
                };
                for chunk in body.chunks(4096) {
                    let _ = conn.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
                    let _ = conn.write_all(chunk);
                    let _ = conn.write_all(b"\r\n");
                }
                if whole || matches!(export, Export::Garbage) {
                    let _ = conn.write_all(b"0\r\n\r\n");
                }
                // DieAfter: drop the connection without the closing chunk, as a crashed daemon would
            } else {
                let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            }
        }
    });
    format!("unix://{}", sock.display())
}

#[test]
fn a_daemon_dying_mid_stream_is_one_line_and_exit_2() {
    let t = tmp();
    // 50 kB of layer content, so the export is well past its first member when it stops
    let spec = ImageSpec::new("fake/app:1")
        .layer(LayerSpec::new("ADD big /").file_sized("big", 50_000, 9));
    let archive = spec.archive(ArchiveFormat::DockerArchive, Compression::None);
    let sent = archive.len() / 2;
    let host = failing_daemon(t.path(), archive, Export::DieAfter(sent));
    let o = bathy()
        .args(["--json", "-", "fake/app:1"])
        .env("DOCKER_HOST", &host)
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "bathy: fake/app:1: the Docker daemon stopped sending the image after {sent} bytes: "
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn a_broken_export_is_one_line_and_exit_2() {
    let t = tmp();
    let host = failing_daemon(t.path(), Vec::new(), Export::Garbage);
    let o = bathy()
        .args(["docker://fake/app:1"])
        .env("DOCKER_HOST", &host)
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("bathy: broken export from the Docker daemon: docker://fake/app:1: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn podman_sockets_are_found_as_podman_finds_them() {
    let t = tmp();
    // CONTAINER_HOST first
    let host = format!("unix://{}", t.path().join("none.sock").display());
    let o = bathy()
        .args(["podman://app:1"])
        .env("CONTAINER_HOST", &host)
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), format!("bathy: cannot connect to the Podman daemon at {host}: no such socket (is the daemon running?)\n"));
    // then the rootless socket under XDG_RUNTIME_DIR
    std::fs::create_dir_all(t.path().join("podman")).expect("mkdir");
    let rootless = t.path().join("podman/podman.sock");
    drop(std::os::unix::net::UnixListener::bind(&rootless).expect("bind"));
    let o = bathy()
        .args(["--source", "podman", "app:1"])
        .env_remove("CONTAINER_HOST")
        .env("XDG_RUNTIME_DIR", t.path())
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!("bathy: cannot connect to the Podman daemon at unix://{}: connection refused (is the daemon running?)\n", rootless.display())
    );
}

#[test]
fn tls_needs_its_certificates() {
    let t = tmp();
    let o = bathy()
        .args(["app:1"])
        .env("DOCKER_HOST", "tcp://127.0.0.1:9")
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", t.path())
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!(
            "bathy: cannot connect to the Docker daemon at tcp://127.0.0.1:9: TLS certificate {} is missing (set DOCKER_CERT_PATH)\n",
            t.path().join("key.pem").display()
        )
    );
}

#[test]
fn pull_needs_a_daemon_image_and_reports_a_failed_pull() {
    let o = run(
        &["--pull", "missing.tar"],
        Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "bathy: --pull needs an image in a daemon, not a file\n"
    );
    if !require_docker() {
        return;
    }
    // no registry answers here, so the pull itself fails, in one line
    let name = unique_tag("pull");
    let o = run(&["--pull", &name], Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "bathy: {name}: the Docker daemon could not pull it: "
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn podman_scheme_reads_through_a_docker_compatible_socket() {
    if !require_docker() {
        return;
    }
    // Podman's socket speaks the Docker API; dockerd's socket stands in for it here
    let socket = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    let mut d = TestDaemon::connect();
    let tag = unique_tag("podman");
    let spec = ImageSpec::new(&tag).layer(LayerSpec::new("ADD x /").file("x", b"via podman://\n"));
    d.import(
        spec.archive(ArchiveFormat::DockerArchive, Compression::None),
        &tag,
    );
    let o = bathy()
        .args(["--json", "-", &format!("podman://{tag}")])
        .env("CONTAINER_HOST", &socket)
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["bathyscaphe"]["source"], format!("podman://{tag}"));
    // "via podman://\n" is 14 bytes
    assert_eq!(v["bathyscaphe"]["finalBytes"], 14);
}

#[test]
fn permission_denied_on_the_socket_is_one_line_and_exit_2() {
    // a root-owned 0600 socket, and bathy run as nobody: what a user outside the docker group sees
    if !require_root() || !require_tool(&SETPRIV) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let t = tmp();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let sock = t.path().join("root-only.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600)).expect("chmod socket");
    let host = format!("unix://{}", sock.display());
    let o = std::process::Command::new(SETPRIV.name)
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_bathy"),
            "--json",
            "-",
            "some/app:1",
        ])
        .env("DOCKER_HOST", &host)
        .current_dir(t.path())
        .output()
        .expect("run bathy as nobody");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "bathy: permission denied on the Docker socket {host}"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn a_single_stage_build_on_a_base_is_attributed_to_base_and_build() {
    if !require_docker() {
        return;
    }
    let mut d = TestDaemon::connect();
    // a base image of two layers, imported from a test-helper archive
    let base = unique_tag("base");
    d.import(
        imported_story(&base).archive(ArchiveFormat::DockerArchive, Compression::None),
        &base,
    );
    let label = unique_tag("label").replace(['/', ':'], "-");
    let dockerfile = format!("FROM {base}\nLABEL bathy-test={label}\nCOPY app.bin /app/app.bin\n");
    let ctx = context(&[
        ("Dockerfile", dockerfile.as_bytes()),
        ("app.bin", &filler(5_000, 3)),
    ]);
    let tag = unique_tag("single");
    d.build(ctx, &tag, &label);
    // the base's layers by diff_id with --base, the COPY layer is the build's
    let json = json_report(&["--json", "-", "--base", &base, &tag]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let stages = v["bathyscaphe"]["stages"].as_array().expect("stages");
    let base_layers = v["bathyscaphe"]["layers"].as_array().expect("layers").len() - 1;
    assert_eq!(stages.len(), base_layers + 1);
    for s in &stages[..base_layers] {
        assert_eq!(s["origin"], "base", "{s}");
        assert_eq!(s["inferred"], false, "{s}");
    }
    let last = &stages[base_layers];
    assert_eq!(last["origin"], "build", "{last}");
    assert!(
        last["instruction"]
            .as_str()
            .unwrap_or_default()
            .contains("COPY"),
        "{last}"
    );
    // bytes by origin: the build added exactly the 5000-byte file
    let summary = v["bathyscaphe"]["stageSummary"]["byStage"]
        .as_array()
        .expect("stageSummary.byStage");
    let build_bytes: u64 = summary
        .iter()
        .filter(|s| s["origin"] == "build")
        .map(|s| s["bytes"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(build_bytes, 5_000);
}

// ---- one file's bytes: the image is exported once more, to a temporary archive ------------

#[test]
fn cat_and_diff_read_a_daemon_image_through_one_export() {
    if !require_docker() {
        return;
    }
    let mut d = TestDaemon::connect();
    let tag = unique_tag("cat");
    let spec = ImageSpec::new(&tag)
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file("etc/app.conf", b"name=demo\nmode=slow\n")
                .file_sized("usr/bin/tool", 100_000, 5)
                .symlink("bin", "usr/bin"),
        )
        .layer(LayerSpec::new("RUN configure").file("etc/app.conf", b"name=demo\nmode=fast\n"));
    d.import(
        spec.archive(ArchiveFormat::DockerArchive, Compression::Gzip),
        &tag,
    );
    let target = format!("docker://{tag}");
    let cwd = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tool = run(&["cat", &target, "/bin/tool"], cwd);
    assert_eq!(tool.status.code(), Some(0), "{}", stderr(&tool));
    assert!(
        tool.stdout == filler(100_000, 5),
        "the bytes the helper wrote"
    );
    let first = run(&["cat", &target, "/etc/app.conf", "--layer", "0"], cwd);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(first.stdout, b"name=demo\nmode=slow\n");
    let diff = run(&["diff", &tag, "/etc/app.conf"], cwd);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    let text = stdout(&diff);
    assert!(text.contains("-mode=slow\n+mode=fast\n"), "{text}");
    assert!(stderr(&diff).is_empty(), "{}", stderr(&diff));
}

#[test]
fn a_daemon_dying_while_the_image_is_exported_again_is_one_line() {
    let t = tmp();
    let spec = ImageSpec::new("fake/app:1")
        .layer(LayerSpec::new("ADD big /").file_sized("big", 50_000, 9));
    let archive = spec.archive(ArchiveFormat::DockerArchive, Compression::None);
    let half = archive.len() / 2;
    let host = failing_daemon(t.path(), archive, Export::WholeThenDieAfter(half));
    let o = bathy()
        .args(["cat", "fake/app:1", "/big"])
        .env("DOCKER_HOST", &host)
        .env("TMPDIR", t.path())
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    // (the stand-in's inspect names another id: the load warns about that first)
    let failed: Vec<&str> = err
        .lines()
        .filter(|l| !l.contains("but inspect said"))
        .collect();
    assert_eq!(failed.len(), 1, "{err}");
    assert!(
        failed[0]
            .starts_with("bathy: fake/app:1: the Docker daemon stopped sending the image after "),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    // the partial export went with the temporary directory
    let left: Vec<_> = std::fs::read_dir(t.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("bathy-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The explorer's extract key (`Ctrl-E`) on a daemon's image: read through the layers the
/// viewer opened (the image exported once, to the private directory), the bytes written.
#[cfg(feature = "tui")]
#[test]
fn extract_reads_a_daemon_image_through_one_export() {
    use bathyscaphe::pipeline::{LoadArgs, LoadConfig};
    use bathyscaphe::tui::state::Effect;
    if !require_docker() {
        return;
    }
    let mut d = TestDaemon::connect();
    let tag = unique_tag("extract");
    let spec = ImageSpec::new(&tag)
        .layer(LayerSpec::new("ADD rootfs /").file_sized("usr/bin/tool", 100_000, 6))
        .layer(LayerSpec::new("RUN configure").file("etc/app.conf", b"name=demo\n"));
    d.import(
        spec.archive(ArchiveFormat::DockerArchive, Compression::Gzip),
        &tag,
    );
    let config = LoadConfig::from_args(&LoadArgs::default());
    let layers = bathyscaphe::contents::layer_files(&format!("docker://{tag}"), &config).unwrap();
    let out = tmp();
    let activity = bathyscaphe::source::refetch::Activity::new();
    for (layer, path, name, want) in [
        (0, "/usr/bin/tool", "tool", filler(100_000, 6)),
        (1, "/etc/app.conf", "app.conf", b"name=demo\n".to_vec()),
    ] {
        let e = Effect::Extract {
            layer,
            path: path.into(),
            name: name.into(),
            size: want.len() as u64,
            entry: None,
        };
        let msg = bathyscaphe::tui::extract_file(&layers, &e, out.path(), &activity);
        assert!(msg.starts_with(&format!("extracted {path}")), "{msg}");
        let written = std::fs::read(out.path().join(name)).unwrap();
        assert!(written == want, "the bytes the helper wrote to {path}");
    }
}
