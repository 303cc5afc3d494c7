//! `bathy suggest --verify` against the real daemon: the suggestion is built, compared with
//! the original and smoke-tested in containers without network. No registry is reachable, so
//! the base image is made here: the host's dash and sleep with their loader and libc, loaded
//! as a test-helper archive; the suggestions go on `--runtime-base scratch`, so the closure
//! alone has to make them run. Each build after the first comes from the daemon's cache.
#![cfg(feature = "daemon")]

mod common;

use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bollard::query_parameters::{BuildImageOptions, RemoveImageOptions};
use bollard::Docker;
use common::*;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};

/// Names no other run uses, so parallel runs never collide.
fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("bathy-test/{what}-{}-{nanos}", std::process::id())
}

struct Daemon {
    rt: tokio::runtime::Runtime,
    docker: Docker,
    tags: Vec<String>,
}

impl Daemon {
    fn connect() -> Daemon {
        let (rt, docker) = common::docker::connect();
        Daemon {
            rt,
            docker,
            tags: Vec::new(),
        }
    }

    /// `docker load` of a test-helper archive.
    fn load(&mut self, spec: &ImageSpec, tag: &str) {
        let archive = spec.archive(ArchiveFormat::DockerArchive, Compression::None);
        common::docker::load(&self.rt, &self.docker, archive);
        self.tags.push(tag.into());
    }

    /// `docker build` of `dir` with the classic builder, its cache kept.
    fn build(&mut self, dir: &Path, tag: &str) {
        let mut b = tar::Builder::new(Vec::new());
        b.append_dir_all(".", dir).expect("context tar");
        let context = b.into_inner().expect("context tar");
        let opts = BuildImageOptions {
            dockerfile: "Dockerfile".into(),
            t: Some(tag.into()),
            rm: true,
            ..Default::default()
        };
        let out: Vec<_> = self.rt.block_on(
            self.docker
                .build_image(opts, None, Some(bollard::body_full(context.into())))
                .collect(),
        );
        self.tags.push(tag.into());
        for item in out {
            let info = item.expect("build succeeds");
            assert!(info.error_detail.is_none(), "build failed: {info:?}");
        }
    }

    /// Remove `tag` too when the test ends (the suggestion `bathy` builds).
    fn owns(&mut self, tag: String) {
        self.tags.push(tag);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        for t in self.tags.iter().rev() {
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

/// Where the host keeps a library the way ld.so finds it.
fn host_library(name: &str) -> PathBuf {
    let dirs = [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ];
    dirs.iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} is not in the host's library directories"))
}

/// The host's dash and sleep, their ELF interpreter and libraries, at the host's paths (each
/// symlink resolved to its file's bytes), as one layer.
fn host_base() -> LayerSpec {
    let mut layer = LayerSpec::new("ADD host-tools /");
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (at, host) in [("bin/sh", "/bin/sh"), ("bin/sleep", "/bin/sleep")] {
        let real = std::fs::canonicalize(host).expect("host tool");
        let bytes = std::fs::read(&real).expect("read host tool");
        let elf = goblin::elf::Elf::parse(&bytes).expect("host tool is ELF");
        if let Some(i) = elf.interpreter {
            files.push((i.trim_start_matches('/').to_string(), PathBuf::from(i)));
        }
        for lib in &elf.libraries {
            let p = host_library(lib);
            files.push((p.to_string_lossy().trim_start_matches('/').to_string(), p));
        }
        files.push((at.to_string(), real));
    }
    files.sort();
    files.dedup();
    for (at, host) in files {
        let bytes = std::fs::read(&host).expect("read host file");
        layer = layer.file_mode(&at, &bytes, 0o755);
    }
    layer
}

/// The app's context: a script that greets and exits 3 with `hello`, else sleeps (through
/// /bin/sleep, which a script's closure cannot see), and a 1.5 MB "toolchain" the build leaves.
fn app_context(dir: &Path, base: &str, cmd: &str) {
    let script = "#!/bin/sh\nif [ \"$1\" = hello ]; then echo \"hello $2\"; exit 3; fi\nexec /bin/sleep 30\n";
    std::fs::write(dir.join("serve"), script).expect("write script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("serve"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod script");
    let dockerfile = format!(
        "FROM {base}\nRUN printf '%01500000d' 0 > /toolchain\nCOPY serve /app/serve\nWORKDIR /app\nCMD {cmd}\n"
    );
    std::fs::write(dir.join("Dockerfile"), dockerfile).expect("write Dockerfile");
}

/// The base made from the host's shell loaded, and a script app (`/app/serve`) built on it
/// under a fresh name; the suggestion's image is removed with the daemon's other images.
fn script_app(name: &str) -> (Daemon, String, tempfile::TempDir, String) {
    let mut d = Daemon::connect();
    let base = format!("{}:1", unique("suggest-base"));
    d.load(&ImageSpec::new(&base).layer(host_base()), &base);
    let ctx = tmp();
    app_context(ctx.path(), &base, "[\"/app/serve\"]");
    let repo = unique(name);
    let app = format!("{repo}:1");
    d.build(ctx.path(), &app);
    d.owns(format!("{repo}-suggested:latest"));
    (d, base, ctx, app)
}

fn suggest_verify(image: &str, dir: &Path, smoke: &[&str]) -> std::process::Output {
    let df = dir.join("Dockerfile");
    let mut args = vec![
        "suggest",
        image,
        "--dockerfile",
        df.to_str().expect("utf-8 path"),
        "--runtime-base",
        "scratch",
        "--no-cache",
        "--verify",
    ];
    args.extend_from_slice(smoke);
    run(&args, dir)
}

#[test]
fn a_suggestion_is_built_compared_and_smoke_tested_in_both_images() {
    if !require_docker() {
        return;
    }
    // the script: `--smoke` runs it with arguments in both, exit code and output compared
    let (mut d, base, ctx, app) = script_app("suggest-serve");
    let repo = app.trim_end_matches(":1");
    let o = suggest_verify(&app, ctx.path(), &["--smoke", "hello 'big world'"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let verdict = out.lines().last().unwrap_or_default();
    assert!(
        verdict.starts_with("suggestion builds, smoke test passes in both (exit 3, same output), "),
        "{out}"
    );
    assert!(
        out.contains("  /app/serve is present with the same bytes\n"),
        "{out}"
    );
    assert!(
        verdict.ends_with(&format!("(built as {repo}-suggested:latest)")),
        "{out}"
    );

    // --smoke-alive: the script execs /bin/sleep, which the closure of a script does not hold,
    // so the suggestion stops at once while the original runs: the smoke test fails, exit 1
    let o = suggest_verify(&app, ctx.path(), &["--smoke-alive", "2"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(
        out.contains("the suggestion builds, but the smoke test fails: the suggestion stopped within 2 s (exit 127) while the original runs"),
        "{out}"
    );

    // sleep itself as the program: its closure is complete, so it stays up in both
    let ctx2 = tmp();
    app_context(ctx2.path(), &base, "[\"/bin/sleep\", \"30\"]");
    let repo2 = unique("suggest-sleep");
    let app2 = format!("{repo2}:1");
    d.build(ctx2.path(), &app2);
    d.owns(format!("{repo2}-suggested:latest"));
    let o = suggest_verify(&app2, ctx2.path(), &["--smoke-alive", "2"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(
        out.contains("suggestion builds, smoke test passes in both (still running after 2 s), "),
        "{out}"
    );
}

#[test]
fn a_suggestion_that_does_not_build_says_so_and_exits_1() {
    if !require_docker() {
        return;
    }
    let (_daemon, _base, ctx, app) = script_app("suggest-broken");
    // the context the suggestion is built from lacks the script the build stage copies
    std::fs::remove_file(ctx.path().join("serve")).expect("remove");
    let o = suggest_verify(&app, ctx.path(), &[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("the suggestion does not build: "), "{out}");
    assert!(out.contains("serve"), "{out}");
}
