//! `bathy suggest --verify` on the corpus apps (`../shared/corpus/images/`), built here by the
//! real daemon: the go server's suggestion must build, stay up (`--smoke-alive 3`) and come
//! within 1.5x of the hand-written multi-stage image of the same app; the node app's likewise
//! with a smoke command that exits. Sizes are the daemon's (`docker image inspect`).
//!
//! No public registry is reachable under `.ci/run`: the apps' base `corpus/debian:bookworm` is
//! the daemon's when it has one, else made as `shared/corpus/build-corpus.sh` makes it
//! (debootstrap from Debian's mirror, `docker import`). The apps are built with the classic
//! builder under `bathy-test-corpus/*` and left in the daemon, so a second run comes from its
//! build cache (a few minutes; the first takes the apt and npm installs), and the suggestion's
//! build stage, the same Dockerfile, comes from that cache too. `BATHY_CORPUS_REBUILD=1` builds
//! them without the cache (how the cold time in docs/benchmarks.md was measured).
#![cfg(feature = "daemon")]

mod common;

use bollard::query_parameters::{BuildImageOptions, RemoveImageOptions};
use bollard::Docker;
use common::*;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The apps' base, as their Dockerfiles name it.
const BASE: &str = "corpus/debian:bookworm";
/// The repository prefix of every image this test builds (and of nothing else).
const PREFIX: &str = "bathy-test-corpus";
/// The suggestion may be at most this many times the hand-written multi-stage image.
const MAX_RATIO: f64 = 1.5;
/// The host's CA bundle: the corpus builds trust it, as a TLS-intercepting proxy may sit
/// between the RUN steps and the package mirrors (build-corpus.sh does the same).
const HOST_CA: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The corpus apps' sources: beside the clone (where CI lays shared/), else /work/shared.
fn corpus_sources() -> Option<PathBuf> {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/images");
    let dir = [beside, PathBuf::from("/work/shared/corpus/images")]
        .into_iter()
        .find(|d| d.join("go-single-stage/Dockerfile").is_file());
    require(
        dir.is_some(),
        "the corpus apps in ../shared/corpus/images or /work/shared/corpus/images",
        "lay shared/ beside the clone",
    )
    .then_some(dir)
    .flatten()
}

struct Daemon {
    rt: tokio::runtime::Runtime,
    docker: Docker,
    /// Images removed when the test ends (the suggestions; the apps stay as build cache).
    remove: Vec<String>,
}

impl Daemon {
    fn connect() -> Daemon {
        let (rt, docker) = common::docker::connect();
        Daemon {
            rt,
            docker,
            remove: Vec::new(),
        }
    }

    fn size(&self, image: &str) -> Option<u64> {
        let info = self.rt.block_on(self.docker.inspect_image(image)).ok()?;
        info.size.and_then(|s| u64::try_from(s).ok())
    }

    /// `docker build --network host -t tag dir` with the classic builder (whose cache
    /// `bathy suggest --verify` reuses for the build stage).
    fn build(&self, dir: &Path, tag: &str) {
        let mut b = tar::Builder::new(Vec::new());
        b.append_dir_all(".", dir).expect("context tar");
        let context = b.into_inner().expect("context tar");
        let opts = BuildImageOptions {
            dockerfile: "Dockerfile".into(),
            t: Some(tag.into()),
            rm: true,
            forcerm: true,
            networkmode: Some("host".into()),
            nocache: std::env::var("BATHY_CORPUS_REBUILD").is_ok_and(|v| v == "1"),
            ..Default::default()
        };
        let out: Vec<_> = self.rt.block_on(
            self.docker
                .build_image(opts, None, Some(bollard::body_full(context.into())))
                .collect(),
        );
        let mut tail = Vec::new();
        for item in out {
            let info = item.unwrap_or_else(|e| panic!("building {tag}: {e}"));
            if let Some(s) = info.stream {
                tail.push(s);
            }
            if let Some(e) = info.error_detail {
                let from = tail.len().saturating_sub(20);
                panic!("building {tag} failed: {e:?}\n{}", tail[from..].concat());
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        for t in &self.remove {
            let opts = RemoveImageOptions {
                force: true,
                ..Default::default()
            };
            let _ = self
                .rt
                .block_on(self.docker.remove_image(t, Some(opts), None));
        }
    }
}

/// The base the apps build on: the daemon's, else debootstrap's minbase bookworm imported as
/// build-corpus.sh does. One test at a time makes it.
fn ensure_base(d: &Daemon) -> bool {
    static MAKING: Mutex<()> = Mutex::new(());
    let _one = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    if d.size(BASE).is_some() {
        return true;
    }
    if !require_root() || !require_tool(&DEBOOTSTRAP) {
        return false;
    }
    let mirror = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("URIs:").map(|u| u.trim().to_string()))
        })
        .and_then(|u| u.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "http://deb.debian.org/debian".into());
    let work = tmp();
    let root = work.path().join("rootfs");
    let status = Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(&root)
        .arg(&mirror)
        .stdout(Stdio::null())
        .status()
        .expect("run debootstrap");
    assert!(
        status.success(),
        "debootstrap bookworm from {mirror} failed"
    );
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run tar");
    let tar_out = tar.stdout.take().expect("tar's stdout");
    let import = Command::new("docker")
        .args(["import", "-c", "CMD [\"bash\"]"])
        .args(["-m", "debootstrap minbase bookworm", "-", BASE])
        .stdin(tar_out)
        .stdout(Stdio::null())
        .status()
        .expect("run docker import");
    assert!(
        tar.wait().expect("tar").success(),
        "tar of the rootfs failed"
    );
    assert!(import.success(), "docker import of {BASE} failed");
    true
}

pub const DEBOOTSTRAP: Tool = Tool {
    name: "debootstrap",
    version_arg: "--version",
    install: "apt-get install debootstrap",
};

/// A copy of the app's directory with the host's CA bundle added as `host-ca.crt`, the
/// context both the app's build and the suggestion's are sent from.
fn context(sources: &Path, app: &str) -> tempfile::TempDir {
    let dir = tmp();
    copy_dir(&sources.join(app), dir.path());
    std::fs::copy(HOST_CA, dir.path().join("host-ca.crt"))
        .unwrap_or_else(|e| panic!("{HOST_CA}, the CA bundle the corpus builds trust: {e}"));
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read corpus app") {
        let e = e.expect("read corpus app");
        let target = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy corpus file");
        }
    }
}

/// One app pair: the single-stage app and its hand-written multi-stage rewrite, built.
struct Pair {
    d: Daemon,
    ctx: tempfile::TempDir,
    single: String,
    multi: String,
}

/// `.ci/corpus-prebuild` warms the build cache while cargo compiles, holding this lock: wait
/// until it is done, so an image is never built twice at the same time (a shared lock, taken
/// and let go: the go and node tests still run side by side).
fn wait_for_prebuild() {
    let path = std::env::temp_dir().join("bathy-corpus-build.lock");
    // util-linux's flock(1): std's File::lock_shared is newer than the crate's MSRV
    let _ = Command::new("flock")
        .arg("-s")
        .arg(&path)
        .arg("true")
        .status();
}

fn build_pair(lang: &str) -> Option<Pair> {
    if !require_docker() {
        return None;
    }
    let sources = corpus_sources()?;
    wait_for_prebuild();
    let mut d = Daemon::connect();
    if !ensure_base(&d) {
        return None;
    }
    let single = format!("{PREFIX}/{lang}-single-stage:latest");
    let multi = format!("{PREFIX}/{lang}-multi-stage:latest");
    let multi_ctx = context(&sources, &format!("{lang}-multi-stage"));
    d.build(multi_ctx.path(), &multi);
    let ctx = context(&sources, &format!("{lang}-single-stage"));
    d.build(ctx.path(), &single);
    d.remove
        .push(format!("{PREFIX}/{lang}-single-stage-suggested:latest"));
    Some(Pair {
        d,
        ctx,
        single,
        multi,
    })
}

/// `bathy suggest SINGLE --dockerfile … --verify` plus `extra`: exit 0, the verdict line
/// starting with `verdict`, and the suggestion's size against the multi-stage image's.
fn verify_pair(p: &Pair, extra: &[&str], verdict: &str) -> String {
    let df = p.ctx.path().join("Dockerfile");
    let written = p.ctx.path().join("Dockerfile.suggested");
    let mut args = vec![
        "suggest",
        &p.single,
        "--dockerfile",
        df.to_str().expect("utf-8 path"),
        "-o",
        written.to_str().expect("utf-8 path"),
        "--no-cache",
        "--verify",
    ];
    args.extend_from_slice(extra);
    let o = run(&args, p.ctx.path());
    let out = stdout(&o);
    println!("{out}");
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let last = out.lines().last().unwrap_or_default();
    assert!(last.starts_with(verdict), "{out}");
    let tag = p.single.replace(":latest", "-suggested:latest");
    assert!(last.ends_with(&format!("(built as {tag})")), "{out}");

    let (original, suggested, multi) = (p.d.size(&p.single), p.d.size(&tag), p.d.size(&p.multi));
    let (Some(original), Some(suggested), Some(multi)) = (original, suggested, multi) else {
        panic!("the daemon lacks one of {}, {tag}, {}", p.single, p.multi);
    };
    let ratio = suggested as f64 / multi as f64;
    assert!(
        ratio <= MAX_RATIO,
        "{tag} is {suggested} bytes, {ratio:.2}x the {multi} of {} (at most {MAX_RATIO}x)\n{out}",
        p.multi
    );
    assert!(suggested < original, "{suggested} ≥ {original}\n{out}");
    println!(
        "{tag}: {suggested} bytes, {ratio:.2}x {} ({multi} bytes)",
        p.multi
    );
    std::fs::read_to_string(&written).expect("the suggested Dockerfile is written")
}

#[test]
fn the_go_servers_suggestion_builds_stays_up_and_is_as_small_as_the_hand_written_one() {
    let Some(p) = build_pair("go") else { return };
    // the static server needs no base: the suggestion goes on scratch by itself
    let dockerfile = verify_pair(
        &p,
        &["--smoke-alive", "3"],
        "suggestion builds, smoke test passes in both (still running after 3 s), ",
    );
    assert!(dockerfile.contains("\nFROM scratch\n"), "{dockerfile}");
    assert!(
        dockerfile.contains("COPY --from=build /app/server /app/server\n"),
        "{dockerfile}"
    );
}

#[test]
fn the_node_apps_suggestion_builds_runs_the_same_and_is_as_small_as_the_hand_written_one() {
    let Some(p) = build_pair("node") else { return };
    // node and express must load in the suggestion: the smoke command exits with output
    let dockerfile = verify_pair(
        &p,
        &[
            "--runtime-base",
            BASE,
            "--smoke=-e 'console.log(require(\"express\") ? 40 + 2 : 0)'",
        ],
        "suggestion builds, smoke test passes in both (exit 0, same output), ",
    );
    assert!(
        dockerfile.contains(&format!("\nFROM {BASE}\n")),
        "{dockerfile}"
    );
}
