//! "Why is it big" on test-helper images: every leftover category, every package database,
//! runtime closures through ELF dependencies, and stage attribution from each builder's history.
//! Expected bytes are computed by hand in the comments.

mod common;

use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::analysis::dockerfile::Dockerfile;
use bathyscaphe::analysis::leftovers::{Category, RuleSet};
use bathyscaphe::analysis::packages::Manager;
use bathyscaphe::analysis::stages::{Origin, StageOptions};
use bathyscaphe::analysis::why::{WhyOptions, WhyReport};
use bathyscaphe::analysis::Analysis;
use bathyscaphe::image::{HistoryEntry, Image};
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{fake_elf, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use std::path::Path;

fn load(dir: &Path, spec: &ImageSpec) -> Image {
    let p = dir.join("image.tar");
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::Gzip)
        .expect("write");
    load_path(
        &p,
        &LoadOptions {
            capture: Some(why_capture()),
            ..Default::default()
        },
    )
    .expect("load")
}

fn why(spec: &ImageSpec) -> (Image, WhyReport) {
    why_with(spec, &WhyOptions::default())
}

fn why_with(spec: &ImageSpec, opts: &WhyOptions) -> (Image, WhyReport) {
    let d = tmp();
    let img = load(d.path(), spec);
    let a = Analysis::run(&img);
    let w = WhyReport::run(&img, &a, opts);
    (img, w)
}

fn find<'a>(w: &'a WhyReport, path: &str) -> &'a bathyscaphe::analysis::leftovers::Leftover {
    w.leftovers
        .iter()
        .find(|l| l.path == path)
        .unwrap_or_else(|| {
            panic!(
                "no finding at {path}: {:?}",
                w.leftovers
                    .iter()
                    .map(|l| (&l.path, l.bytes))
                    .collect::<Vec<_>>()
            )
        })
}

const BASE: &str = "ADD file:rootfs in /";

#[test]
fn capture_keeps_only_wanted_files_of_each_layer() {
    let spec = ImageSpec::new("cap:1")
        .layer(
            LayerSpec::new(BASE)
                .file("var/lib/dpkg/status", b"Package: a\n")
                .file_sized("usr/share/big", 100_000, 1),
        )
        .layer(
            LayerSpec::new("RUN x")
                .file("var/lib/dpkg/status", b"Package: b\n")
                .file("bin/tool", &fake_elf(None, &[], None, 300)),
        );
    let d = tmp();
    let img = load(d.path(), &spec);
    let status = img.paths.lookup("var/lib/dpkg/status").expect("node");
    assert_eq!(img.captured(0, status), Some(&b"Package: a\n"[..]));
    assert_eq!(img.captured(1, status), Some(&b"Package: b\n"[..]));
    assert!(img
        .captured(0, img.paths.lookup("usr/share/big").expect("node"))
        .is_none());
    // ELF files keep their facts, not their bytes
    let tool = img
        .captured(1, img.paths.lookup("bin/tool").expect("node"))
        .expect("captured");
    assert_eq!(tool, b"ELF\n");
    // without capture nothing is kept and hashes are unchanged
    let plain = load_path(&d.path().join("image.tar"), &LoadOptions::default()).expect("load");
    assert!(plain.captured.is_empty());
    assert_eq!(
        plain.layers[1].entries[0].hash,
        img.layers[1].entries[0].hash
    );
}

#[test]
fn compiler_dev_files_caches_vcs_source_and_docs_with_exact_bytes() {
    let spec = ImageSpec::new("left:1")
        .layer(
            LayerSpec::new(BASE)
                .file_sized("usr/share/doc/bash/copyright", 100, 1)
                .file_sized("usr/share/man/man1/bash.1.gz", 200, 2),
        )
        .layer(
            LayerSpec::new("/bin/sh -c curl -L go.tgz | tar -C /usr/local -xz && apt-get update")
                .file_sized("usr/local/go/bin/go", 1000, 3)
                .file_sized("usr/local/go/pkg/tool/linux_amd64/compile", 2000, 4)
                .file_sized("usr/include/stdio.h", 300, 5)
                .file_sized("usr/lib/x86_64-linux-gnu/libfoo.a", 700, 6)
                .file_sized(
                    "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
                    5000,
                    7,
                )
                .file_sized("var/lib/apt/lists/lock", 0, 8),
        )
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) COPY dir:abc in /app ")
                .file_sized("app/main.go", 50, 9)
                .file_sized("app/.git/HEAD", 23, 10)
                .file_sized("app/.git/objects/ab/cdef", 1000, 11)
                .file_sized("root/.npm/_cacache/content-v2/x", 400, 12)
                .file_sized("root/.cache/go-build/aa/bb-d", 600, 13),
        )
        .layer(LayerSpec::new("/bin/sh -c rm -rf /root/.npm").whiteout("root/.npm"))
        .workdir("/app")
        .cmd(&["/app/server"]);
    let (_, w) = why(&spec);
    // go: 1000 + 2000, in layer 1, from its RUN
    let go = find(&w, "/usr/local/go");
    assert_eq!(
        (go.category, go.bytes, go.files, go.layer),
        (Category::Compiler, 3000, 2, Some(1))
    );
    assert!(
        go.command.starts_with("RUN curl -L go.tgz"),
        "{}",
        go.command
    );
    assert!(
        go.advice.contains("COPY --from=build only /app/server"),
        "{}",
        go.advice
    );
    let h = find(&w, "/usr/include");
    assert_eq!((h.category, h.bytes, h.files), (Category::DevFiles, 300, 1));
    let a = w
        .leftovers
        .iter()
        .find(|l| l.rule == "static-libs")
        .expect("static libs");
    assert_eq!(
        (a.bytes, a.path.as_str()),
        (700, "/usr/lib/x86_64-linux-gnu")
    );
    // apt lists: 5000 (the empty lock file is excluded)
    let lists = find(&w, "/var/lib/apt/lists");
    assert_eq!(
        (lists.category, lists.bytes, lists.files),
        (Category::PackageCache, 5000, 1)
    );
    // the npm cache removed in a later layer is not in the final filesystem: true waste, not a leftover
    assert!(w
        .leftovers
        .iter()
        .all(|l| !l.path.starts_with("/root/.npm")));
    assert_eq!(find(&w, "/root/.cache/go-build").bytes, 600);
    let git = find(&w, "/app/.git");
    assert_eq!(
        (git.category, git.bytes, git.files, git.layer),
        (Category::Vcs, 1023, 2, Some(2))
    );
    let src = w
        .leftovers
        .iter()
        .find(|l| l.category == Category::Source)
        .expect("source");
    assert_eq!((src.path.as_str(), src.bytes), ("/app", 50));
    assert_eq!(find(&w, "/usr/share/doc").bytes, 100);
    assert_eq!(find(&w, "/usr/share/man").category, Category::Docs);
    // without leftovers: final 100+200+1000+2000+300+700+5000+0+50+23+1000+600 = 10973,
    // leftovers are all of it
    assert_eq!(w.estimates.final_bytes, 10973);
    assert_eq!(w.estimates.without_leftovers_bytes, 0);
}

fn dpkg_status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::new();
    for (name, version) in pkgs {
        let deps = if *name == "gcc-12" {
            "Depends: libhelper (>= 1), python3 | python3-any, cpp-12:any\n"
        } else {
            ""
        };
        s += &format!("Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: {version}\n{deps}Description: x\n more\n\n");
    }
    s.into_bytes()
}

#[test]
fn dpkg_packages_with_usr_merge_build_tools_and_removal() {
    let spec = ImageSpec::new("dpkg:1")
        .layer(
            LayerSpec::new(BASE)
                .symlink("bin", "usr/bin")
                .file_sized("usr/bin/bash", 1200, 1)
                .file("var/lib/dpkg/status", &dpkg_status(&[("bash", "5.2-1")]))
                // dpkg lists the pre-merge path; the file lives under /usr
                .file("var/lib/dpkg/info/bash.list", b"/.\n/bin\n/bin/bash\n"),
        )
        .layer(
            LayerSpec::new("/bin/sh -c apt-get install -y gcc-12 make")
                .file_sized("usr/bin/gcc-12", 3000, 2)
                .file_sized("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 9000, 3)
                .file_sized("usr/bin/make", 400, 4)
                .file("var/lib/dpkg/status", &dpkg_status(&[("bash", "5.2-1"), ("gcc-12", "12.2.0"), ("make", "4.3"), ("libhelper", "1"), ("python3", "3.11")]))
                .file("var/lib/dpkg/info/gcc-12.list", b"/usr\n/usr/bin\n/usr/bin/gcc-12\n/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n")
                // libhelper came in as gcc's dependency; python3 was asked for by name
                .file("var/lib/apt/extended_states", b"Package: libhelper\nArchitecture: amd64\nAuto-Installed: 1\n\nPackage: python3\nArchitecture: amd64\nAuto-Installed: 0\n")
                .file_sized("usr/lib/libhelper.so.1", 777, 20)
                .file("var/lib/dpkg/info/libhelper:amd64.list", b"/usr/lib/libhelper.so.1\n")
                .file_sized("usr/bin/python3", 555, 21)
                .file("var/lib/dpkg/info/python3.list", b"/usr/bin/python3\n")
                .file("var/lib/dpkg/info/make.list", b"/usr/bin/make\n"),
        )
        .layer(
            LayerSpec::new("/bin/sh -c apt-get purge -y make")
                .whiteout("usr/bin/make")
                .whiteout("var/lib/dpkg/info/make.list")
                .file("var/lib/dpkg/status", &dpkg_status(&[("bash", "5.2-1"), ("gcc-12", "12.2.0"), ("libhelper", "1"), ("python3", "3.11")])),
        );
    let (_, w) = why(&spec);
    let p = |n: &str| {
        w.packages
            .iter()
            .find(|p| p.name == n)
            .unwrap_or_else(|| panic!("no package {n}"))
    };
    let bash = p("bash");
    assert_eq!(
        (
            bash.manager,
            bash.bytes,
            bash.files,
            bash.layer,
            bash.build_tool,
            bash.version.as_str()
        ),
        (Manager::Dpkg, 1200, 1, Some(0), false, "5.2-1")
    );
    // gcc-12: 3000 + 9000 = 12000, installed by layer 1, a build tool
    let gcc = p("gcc-12");
    assert_eq!(
        (gcc.bytes, gcc.files, gcc.layer, gcc.build_tool, gcc.removed),
        (12000, 2, Some(1), true, false)
    );
    // make: purged in layer 2, its 400 bytes still ship in layer 1
    let make = p("make");
    assert_eq!(
        (make.removed, make.bytes, make.shipped_bytes, make.layer),
        (true, 0, 400, Some(1))
    );
    // the cc1 file goes to the gcc path rule, gcc-12's remaining file to the package rule
    assert_eq!(find(&w, "/usr/lib/gcc").bytes, 9000);
    let by_pkg = w
        .leftovers
        .iter()
        .find(|l| l.package.as_deref() == Some("gcc-12"))
        .expect("gcc-12 finding");
    assert_eq!(
        (by_pkg.category, by_pkg.bytes, by_pkg.path.as_str()),
        (Category::Compiler, 3000, "/usr/bin")
    );
    assert_eq!(w.packages[0].name, "gcc-12", "largest first");
    // only gcc-12 depends on libhelper, which apt installed automatically: a build tool's
    // dependency, reported as a leftover; python3 was installed by name and stays
    let helper = p("libhelper");
    assert_eq!(
        (
            helper.bytes,
            helper.build_tool,
            helper.needed_only_by.clone()
        ),
        (777, true, vec!["gcc-12".to_string()])
    );
    assert!(!p("python3").build_tool);
    let dep = w
        .leftovers
        .iter()
        .find(|l| l.rule == "build-tool-dependency")
        .expect("dependency finding");
    assert_eq!(
        (dep.package.as_deref(), dep.bytes, dep.path.as_str()),
        (Some("libhelper"), 777, "/usr/lib")
    );
}

#[test]
fn apk_python_and_npm_databases() {
    let apk_db = b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nC:Q1def=\nP:build-base\nV:0.5-r3\nF:usr/bin\nR:cc\n\n";
    let record = b"requests/__init__.py,sha256=x,500\nrequests/api.py,sha256=y,700\nrequests-2.31.0.dist-info/RECORD,,\n../../../bin/req,sha256=z,80\n";
    let spec = ImageSpec::new("dbs:1")
        .layer(
            LayerSpec::new(BASE)
                .file("lib/apk/db/installed", apk_db)
                .file_sized("lib/ld-musl-x86_64.so.1", 600, 1)
                .symlink("lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1")
                .file_sized("usr/bin/cc", 250, 2),
        )
        .layer(
            LayerSpec::new("RUN pip install requests")
                .file_sized("usr/lib/python3.11/site-packages/requests/__init__.py", 500, 3)
                .file_sized("usr/lib/python3.11/site-packages/requests/api.py", 700, 4)
                .file("usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/RECORD", record)
                .file_sized("usr/bin/req", 80, 5),
        )
        .layer(
            LayerSpec::new("RUN npm install")
                .file("app/package.json", br#"{"name":"app","dependencies":{"left-pad":"^1"},"devDependencies":{"typescript":"^5","@types/node":"^20"}}"#)
                .file("app/node_modules/left-pad/package.json", br#"{"name":"left-pad","version":"1.3.0"}"#)
                .file_sized("app/node_modules/left-pad/index.js", 300, 6)
                .file("app/node_modules/typescript/package.json", br#"{"name":"typescript","version":"5.4.5"}"#)
                .file_sized("app/node_modules/typescript/lib/tsc.js", 5000, 7)
                .file("app/node_modules/@types/node/package.json", br#"{"name":"@types/node","version":"20.1.0"}"#)
                .file_sized("app/node_modules/@types/node/index.d.ts", 800, 8)
                .file("app/node_modules/ms/package.json", br#"{"name":"ms","version":"2.1.3"}"#)
                .file_sized("app/node_modules/ms/index.js", 90, 9),
        )
        .workdir("/app")
        .cmd(&["node", "index.js"]);
    let (_, w) = why(&spec);
    let p = |m: Manager, n: &str| {
        w.packages
            .iter()
            .find(|p| p.manager == m && p.name == n)
            .unwrap_or_else(|| panic!("no {n}"))
    };
    // musl: the loader (600) and a symlink to it (no bytes of its own)
    assert_eq!(
        (p(Manager::Apk, "musl").bytes, p(Manager::Apk, "musl").files),
        (600, 1)
    );
    let bb = p(Manager::Apk, "build-base");
    assert_eq!(
        (bb.bytes, bb.build_tool, bb.version.as_str()),
        (250, true, "0.5-r3")
    );
    // requests: 500 + 700 + the RECORD itself + /usr/bin/req (80, via ../../../bin)
    let req = p(Manager::Python, "requests");
    assert_eq!(
        (req.bytes, req.files, req.version.as_str(), req.layer),
        (500 + 700 + record.len() as u64 + 80, 4, "2.31.0", Some(1))
    );
    // npm: package.json bytes + content
    // package.json sizes: {"name":"left-pad","version":"1.3.0"} is 37 bytes, typescript's 39,
    // @types/node's 41, ms's 31
    let lp = p(Manager::Npm, "left-pad");
    assert_eq!(
        (lp.bytes, lp.version.as_str(), lp.build_tool),
        (37 + 300, "1.3.0", false)
    );
    let ts = p(Manager::Npm, "typescript");
    assert_eq!((ts.bytes, ts.build_tool), (39 + 5000, true));
    assert!(
        p(Manager::Npm, "ms").build_tool,
        "ms is reachable from no dependency"
    );
    // devDependencies: typescript, @types and the rest of the dev-only tree, each a finding
    let t = find(&w, "/app/node_modules/typescript");
    assert_eq!((t.category, t.bytes), (Category::DevDependency, 5039));
    assert_eq!(find(&w, "/app/node_modules/@types").bytes, 41 + 800);
    assert_eq!(find(&w, "/app/node_modules").bytes, 31 + 90);
    assert!(w.leftovers.iter().all(|l| !l.path.contains("left-pad")));
}

#[test]
fn runtime_closure_follows_interpreter_needed_libraries_and_symlinks() {
    let ld = "/lib64/ld-linux-x86-64.so.2";
    let server = fake_elf(Some(ld), &["libfoo.so.1", "libc.so.6"], None, 4000);
    let libfoo = fake_elf(None, &["libc.so.6"], None, 3000);
    let libc = fake_elf(None, &[], None, 2000);
    let loader = fake_elf(None, &[], None, 1000);
    let spec = ImageSpec::new("elf:1")
        .layer(
            LayerSpec::new(BASE)
                .symlink(
                    "lib64/ld-linux-x86-64.so.2",
                    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                )
                .file("lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", &loader)
                .file("lib/x86_64-linux-gnu/libc.so.6", &libc)
                .file("usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3", &libfoo)
                .symlink("usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so.1.2.3")
                .file_sized("usr/lib/x86_64-linux-gnu/libunused.so.1", 50_000, 1)
                .file_sized("etc/ssl/certs/ca-certificates.crt", 200, 2)
                .file_sized("etc/passwd", 30, 3),
        )
        .layer(
            LayerSpec::new("COPY server /usr/local/bin/ # buildkit")
                .file("usr/local/bin/server", &server),
        )
        .env("PATH=/usr/local/bin:/usr/bin")
        .entrypoint(&["server"])
        .cmd(&["--port", "80"]);
    let (img, w) = why(&spec);
    let e = &w.estimates;
    // 4000 + 3000 + 2000 + 1000 + CA 200 + passwd 30 = 10230
    assert_eq!(e.runtime_closure_bytes, Some(10230), "{:?}", e.assumptions);
    assert_eq!(e.program.as_deref(), Some("/usr/local/bin/server"));
    // libfoo is not part of glibc: a slim base, and the assumption says why
    assert_eq!(e.runtime_closure_base.as_deref(), Some("slim"));
    assert!(
        e.assumptions.iter().any(|a| a.contains("libfoo.so.1")),
        "{:?}",
        e.assumptions
    );
    let paths: Vec<String> = e.closure_nodes.iter().map(|&n| img.paths.path(n)).collect();
    assert!(paths.contains(&"/lib64/ld-linux-x86-64.so.2".to_string()));
    assert!(paths.contains(&"/usr/lib/x86_64-linux-gnu/libfoo.so.1".to_string()));
    assert!(!paths.iter().any(|p| p.contains("libunused")));

    // a static binary: the binary and the CA bundle, on scratch
    let spec = ImageSpec::new("static:1")
        .layer(
            LayerSpec::new("COPY server /server")
                .file("server", &fake_elf(None, &[], None, 7000))
                .file_sized("etc/ssl/certs/ca-certificates.crt", 200, 2),
        )
        .cmd(&["/server"]);
    let (_, w) = why(&spec);
    assert_eq!(w.estimates.runtime_closure_bytes, Some(7200));
    assert_eq!(w.estimates.runtime_closure_base.as_deref(), Some("scratch"));
}

#[test]
fn runtime_closure_of_scripts_and_node_apps() {
    let ld = "/lib64/ld-linux-x86-64.so.2";
    let base = LayerSpec::new(BASE)
        .file(
            "lib64/ld-linux-x86-64.so.2",
            &fake_elf(None, &[], None, 1000),
        )
        .file(
            "lib/x86_64-linux-gnu/libc.so.6",
            &fake_elf(None, &[], None, 2000),
        )
        .file(
            "usr/bin/node",
            &fake_elf(Some(ld), &["libc.so.6"], None, 5000),
        )
        .file(
            "usr/bin/env",
            &fake_elf(Some(ld), &["libc.so.6"], None, 400),
        );
    // a script run through env: env, node, their libraries, and the script
    let script = b"#!/usr/bin/env node\nconsole.log(1)\n";
    let spec = ImageSpec::new("script:1")
        .layer(base.clone())
        .layer(LayerSpec::new("COPY run /usr/local/bin/run").file_mode(
            "usr/local/bin/run",
            script,
            0o755,
        ))
        .cmd(&["run"]);
    let (_, w) = why(&spec);
    // 1000 + 2000 + 5000 + 400 + script
    assert_eq!(
        w.estimates.runtime_closure_bytes,
        Some(8400 + script.len() as u64),
        "{:?}",
        w.estimates.assumptions
    );
    assert_eq!(w.estimates.runtime_closure_base.as_deref(), Some("slim"));

    // node dist/server.js in /app: node + libc + loader, the app without sources, production deps only
    let spec = ImageSpec::new("node:1")
        .layer(base)
        .layer(
            LayerSpec::new("RUN npm install && npm run build")
                .file(
                    "app/package.json",
                    br#"{"dependencies":{"a":"1"},"devDependencies":{"typescript":"5"}}"#,
                )
                .file_sized("app/dist/server.js", 700, 1)
                .file_sized("app/src/server.ts", 900, 2)
                .file(
                    "app/node_modules/a/package.json",
                    br#"{"name":"a","dependencies":{"b":"1"}}"#,
                )
                .file("app/node_modules/b/package.json", br#"{"name":"b"}"#)
                .file_sized("app/node_modules/b/index.js", 60, 3)
                .file(
                    "app/node_modules/typescript/package.json",
                    br#"{"name":"typescript"}"#,
                )
                .file_sized("app/node_modules/typescript/lib/tsc.js", 9000, 4),
        )
        .workdir("/app")
        .cmd(&["node", "dist/server.js"]);
    let (_, w) = why(&spec);
    // node 5000 + libc 2000 + loader 1000 + app package.json 63 + dist 700 + a's package.json 37
    // + b's (12 + 60); not env (400), not the .ts source, not typescript
    assert_eq!(
        w.estimates.runtime_closure_bytes,
        Some(5000 + 2000 + 1000 + 63 + 700 + 37 + 12 + 60),
        "{:?}",
        w.estimates.assumptions
    );
    assert!(w
        .leftovers
        .iter()
        .any(|l| l.category == Category::Source && l.bytes == 900));
}

fn h(created_by: &str, created: &str, empty: bool, comment: Option<&str>) -> HistoryEntry {
    HistoryEntry {
        created_by: Some(created_by.into()),
        created: Some(created.into()),
        comment: comment.map(str::to_string),
        empty_layer: empty,
        author: None,
    }
}

fn image_with_history(history: Vec<HistoryEntry>) -> Image {
    let layers = history.iter().filter(|x| !x.empty_layer).count();
    let mut spec = ImageSpec::new("hist:1");
    for i in 0..layers {
        spec =
            spec.layer(LayerSpec::new("x").file_sized(&format!("f{i}"), 100 * (i + 1), i as u64));
    }
    let d = tmp();
    let mut img = load(d.path(), &spec);
    // history is paired with layers once, at load: pair the replaced history again
    img.trailing_history = bathyscaphe::source::pair_history(&history, &mut img.layers);
    img.config.history = history;
    img
}

fn stages_of(img: &Image, opts: &StageOptions) -> Vec<(Origin, Option<String>, bool)> {
    bathyscaphe::analysis::stages::attribute(img, opts)
        .layers
        .iter()
        .map(|l| (l.origin, l.stage.clone(), l.inferred))
        .collect()
}

#[test]
fn base_boundary_from_each_builders_history() {
    // legacy builder on a base that ends with CMD: the CMD marks the boundary
    let img = image_with_history(vec![
        h(
            "/bin/sh -c #(nop) ADD file:abc in / ",
            "2024-01-01T00:00:00Z",
            false,
            None,
        ),
        h(
            "/bin/sh -c #(nop)  CMD [\"bash\"]",
            "2024-01-01T00:00:01Z",
            true,
            None,
        ),
        h(
            "/bin/sh -c apt-get update",
            "2024-01-02T00:00:00Z",
            false,
            None,
        ),
        h(
            "/bin/sh -c #(nop) COPY file:def in /app ",
            "2024-01-02T00:00:05Z",
            false,
            None,
        ),
    ]);
    let r = bathyscaphe::analysis::stages::attribute(&img, &StageOptions::default());
    assert_eq!(
        r.layers.iter().map(|l| l.origin).collect::<Vec<_>>(),
        vec![Origin::Base, Origin::Build, Origin::Build]
    );
    assert!(r.layers.iter().all(|l| l.inferred));
    assert!(r.method.contains("CMD"), "{}", r.method);
    assert_eq!(r.layers[2].instruction, "COPY file:def in /app");
    // bytes by origin: base 100, build 200 + 300
    let sum: Vec<(Origin, u64)> = r.summary.iter().map(|s| (s.origin, s.bytes)).collect();
    assert!(sum.contains(&(Origin::Base, img.layers[0].size_bytes)));
    assert_eq!(
        sum.iter().find(|s| s.0 == Origin::Build).map(|s| s.1),
        Some(img.layers[1].size_bytes + img.layers[2].size_bytes)
    );

    // buildkit steps after another builder's base; COPY --from names the stage
    let img = image_with_history(vec![
        h(
            "/bin/sh -c #(nop) ADD file:abc in / ",
            "2024-01-01T00:00:00Z",
            false,
            None,
        ),
        h(
            "RUN /bin/sh -c apk add gcc # buildkit",
            "2024-01-01T00:00:30Z",
            false,
            Some("buildkit.dockerfile.v0"),
        ),
        h(
            "COPY --from=builder /out/app /app # buildkit",
            "2024-01-01T00:00:40Z",
            false,
            Some("buildkit.dockerfile.v0"),
        ),
    ]);
    let s = stages_of(&img, &StageOptions::default());
    assert_eq!(
        s,
        vec![
            (Origin::Base, None, true),
            (Origin::Build, None, true),
            (Origin::Build, Some("builder".into()), true)
        ]
    );

    // kaniko (zero times) and a creation-time gap of days: the gap is the boundary
    let img = image_with_history(vec![
        h("RUN make base", "2023-05-01T00:00:00Z", false, None),
        h("RUN make base2", "2023-05-01T00:01:00Z", false, None),
        h(
            "COPY --from=build /x /x",
            "2024-01-01T00:00:00Z",
            false,
            None,
        ),
    ]);
    let r = bathyscaphe::analysis::stages::attribute(&img, &StageOptions::default());
    assert_eq!(
        r.layers.iter().map(|l| l.origin).collect::<Vec<_>>(),
        vec![Origin::Base, Origin::Base, Origin::Build]
    );
    assert!(r.method.contains("gap"), "{}", r.method);

    // FROM scratch (buildah-style legacy strings, no marker): everything is the build
    let img = image_with_history(vec![h(
        "/bin/sh -c #(nop) COPY file:e02 in /b.txt ",
        "2024-01-01T00:00:00Z",
        false,
        None,
    )]);
    assert_eq!(
        stages_of(&img, &StageOptions::default()),
        vec![(Origin::Build, None, true)]
    );
}

#[test]
fn base_image_by_diff_id_is_known_not_inferred() {
    let img = image_with_history(vec![
        h("RUN a", "2024-01-01T00:00:00Z", false, None),
        h("RUN b", "2024-01-01T00:00:01Z", false, None),
        h("RUN c", "2024-01-01T00:00:02Z", false, None),
    ]);
    let ids = vec![img.layers[0].diff_id.clone(), img.layers[1].diff_id.clone()];
    let opts = StageOptions {
        base_diff_ids: Some(ids),
        base_name: Some("debian:12".into()),
        ..Default::default()
    };
    let s = stages_of(&img, &opts);
    assert_eq!(
        s,
        vec![
            (Origin::Base, Some("debian:12".into()), false),
            (Origin::Base, Some("debian:12".into()), false),
            (Origin::Build, None, true)
        ]
    );
}

#[test]
fn dockerfile_matches_legacy_history_and_credits_copy_from_to_its_stage() {
    let df = Dockerfile::parse(
        "FROM debian:bookworm AS builder\nRUN apt-get update\nWORKDIR /app\nCOPY main.go .\nRUN go build -o server .\n\nFROM scratch\nCOPY --from=builder /app/server /server\nCOPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\nEXPOSE 8080\nCMD [\"/server\"]\n",
    )
    .expect("parses");
    let img = image_with_history(vec![
        h(
            "/bin/sh -c #(nop) COPY file:e1f in /server ",
            "2024-01-01T00:00:00Z",
            false,
            None,
        ),
        h(
            "/bin/sh -c #(nop) COPY file:2a6 in /etc/ssl/certs/ ",
            "2024-01-01T00:00:01Z",
            false,
            None,
        ),
        h(
            "/bin/sh -c #(nop)  EXPOSE 8080",
            "2024-01-01T00:00:02Z",
            true,
            None,
        ),
        h(
            "/bin/sh -c #(nop)  CMD [\"/server\"]",
            "2024-01-01T00:00:03Z",
            true,
            None,
        ),
    ]);
    let r = bathyscaphe::analysis::stages::attribute(
        &img,
        &StageOptions {
            dockerfile: Some(df),
            ..Default::default()
        },
    );
    for l in &r.layers {
        assert_eq!(
            (
                l.origin,
                l.stage.as_deref(),
                l.inferred,
                l.copy_from.as_deref()
            ),
            (Origin::Build, Some("builder"), false, Some("builder"))
        );
    }
    assert_eq!(
        r.layers[0].instruction,
        "COPY --from=builder /app/server /server"
    );

    // single stage on a base: history before the first instruction is the base image
    let df = Dockerfile::parse("FROM corpus/debian:bookworm\nRUN apt-get update\nWORKDIR /app\nCOPY main.go .\nCMD [\"/app/server\"]\n").expect("parses");
    let img = image_with_history(vec![
        HistoryEntry {
            created_by: None,
            comment: Some("debootstrap".into()),
            ..Default::default()
        },
        h(
            "/bin/sh -c apt-get update",
            "2024-01-01T00:00:00Z",
            false,
            None,
        ),
        h(
            "/bin/sh -c #(nop) WORKDIR /app",
            "2024-01-01T00:00:01Z",
            false,
            None,
        ),
        h(
            "/bin/sh -c #(nop) COPY file:fb6 in . ",
            "2024-01-01T00:00:02Z",
            false,
            None,
        ),
        h(
            "/bin/sh -c #(nop)  CMD [\"/app/server\"]",
            "2024-01-01T00:00:03Z",
            true,
            None,
        ),
    ]);
    let s = stages_of(
        &img,
        &StageOptions {
            dockerfile: Some(df),
            ..Default::default()
        },
    );
    assert_eq!(
        s[0],
        (Origin::Base, Some("corpus/debian:bookworm".into()), false)
    );
    assert_eq!(
        s[1..],
        vec![(Origin::Build, Some("stage-0".into()), false); 3][..]
    );
}

/// The real builders' archives in ../shared/fixtures/builders.
#[test]
fn real_builder_histories_from_fixtures() {
    let Some(fx) = require_shared_fixtures() else {
        return;
    };
    let b = fx.join("builders");
    let legacy = load_path(
        &b.join("docker-legacy-go-multi-stage.docker.tar"),
        &LoadOptions::default(),
    )
    .expect("load");
    let df = Dockerfile::load(&b.join("Dockerfile.go-multi-stage")).expect("dockerfile");
    let r = bathyscaphe::analysis::stages::attribute(
        &legacy,
        &StageOptions {
            dockerfile: Some(df),
            ..Default::default()
        },
    );
    assert_eq!(r.layers.len(), 2);
    assert!(r
        .layers
        .iter()
        .all(|l| l.stage.as_deref() == Some("builder")
            && !l.inferred
            && l.origin == Origin::Build));
    assert_eq!(
        r.layers[1].instruction,
        "COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/"
    );

    let buildah =
        load_path(&b.join("buildah-layers.oci.tar"), &LoadOptions::default()).expect("load");
    let df = Dockerfile::load(&b.join("Containerfile.buildah")).expect("containerfile");
    let r = bathyscaphe::analysis::stages::attribute(
        &buildah,
        &StageOptions {
            dockerfile: Some(df),
            ..Default::default()
        },
    );
    assert_eq!(
        r.layers[0].stage.as_deref(),
        Some("one"),
        "COPY --from=one is credited to stage one"
    );
    assert_eq!(r.layers[1].stage.as_deref(), Some("stage-1"));
    assert_eq!(r.layers[1].instruction, "COPY a.txt /c.txt");

    // without a Dockerfile the kaniko history is all build on a base found by its CMD marker
    let kaniko = load_path(
        &fx.join("dive/test-kaniko-image.tar"),
        &LoadOptions::default(),
    )
    .expect("load");
    let r = bathyscaphe::analysis::stages::attribute(&kaniko, &StageOptions::default());
    assert_eq!(r.layers[0].origin, Origin::Base);
    assert!(r.layers[1..]
        .iter()
        .all(|l| l.origin == Origin::Build && l.inferred));
}

#[test]
fn cli_report_json_and_user_rules() {
    let d = tmp();
    let spec = ImageSpec::new("cli:1")
        .layer(
            LayerSpec::new(BASE)
                .file_sized("usr/local/go/bin/go", 1000, 1)
                .file_sized("opt/sdk/tool", 321, 2),
        )
        .cmd(&["/usr/local/go/bin/go"]);
    let img = d.path().join("img.tar");
    spec.write(&img, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write");
    let rules = d.path().join("rules.yaml");
    std::fs::write(&rules, "rules:\n  - id: my-sdk\n    category: compiler\n    severity: high\n    paths: ['/opt/sdk/**']\n    advice: drop it\n").expect("write rules");
    let out = run(
        &[
            img.to_str().expect("utf8"),
            "--json",
            "-",
            "--rules",
            rules.to_str().expect("utf8"),
        ],
        d.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let b = &v["bathyscaphe"];
    let lo = b["leftovers"].as_array().expect("leftovers");
    let sdk = lo
        .iter()
        .find(|l| l["path"] == "/opt/sdk")
        .expect("user rule finding");
    assert_eq!(
        (
            sdk["category"].as_str(),
            sdk["bytes"].as_u64(),
            sdk["advice"].as_str(),
            sdk["layer"].as_u64()
        ),
        (Some("compiler"), Some(321), Some("drop it"), Some(0))
    );
    assert!(b["packages"].is_array());
    assert_eq!(b["stages"][0]["origin"], "build");
    assert!(b["estimates"]["withoutLeftoversBytes"].is_u64());
    assert!(b["estimates"]["assumptions"].is_array());

    let text = run(&[img.to_str().expect("utf8"), "--no-tui"], d.path());
    assert!(
        stdout(&text).contains("Why is it big:"),
        "{}",
        stdout(&text)
    );

    std::fs::write(&rules, "rules:\n  - id: x\n    category: nonsense\n").expect("write");
    let bad = run(
        &[
            img.to_str().expect("utf8"),
            "--no-tui",
            "--rules",
            rules.to_str().expect("utf8"),
        ],
        d.path(),
    );
    assert_eq!(bad.status.code(), Some(2));
    let err = stderr(&bad);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("rules.yaml"), "{err}");
    let _ = RuleSet::builtin();
}

/// A user glob that does not compile used to be dropped without a word: now the run stops with
/// one line naming the rules file and the rule.
#[test]
fn a_user_glob_that_does_not_compile_is_refused_naming_file_and_rule() {
    let d = tmp();
    let img = d.path().join("img.tar");
    ImageSpec::new("rules:1")
        .layer(LayerSpec::new(BASE).file_sized("src/a/x.c", 10, 1))
        .write(&img, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write");
    let rules = d.path().join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - id: broken-glob\n    category: source\n    paths: ['/src/{a,b']\n",
    )
    .expect("write rules");
    for mode in [&["--no-tui"][..], &["--json", "-"][..]] {
        let mut args = vec![img.to_str().expect("utf8"), "--rules"];
        args.push(rules.to_str().expect("utf8"));
        args.extend_from_slice(mode);
        let out = run(&args, d.path());
        assert_eq!(out.status.code(), Some(2), "{mode:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("rules.yaml") && err.contains("broken-glob") && err.contains("/src/{a,b"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "{mode:?}");
    }
}

/// ~50 long globs in one rule: all path rules are matched in one `RegexSet`, which used to
/// exceed the regex crate's default size limit and fall back to an empty set, so every path
/// rule (the built-in ones too) silently stopped matching.
#[test]
fn fifty_long_user_globs_match_and_built_in_rules_still_fire() {
    let d = tmp();
    let long = ["a".repeat(100), "b".repeat(100), "c".repeat(100)].join("-");
    let vendored = format!("opt/vendor-07/lib/{long}-x/src/main.c");
    let img = d.path().join("img.tar");
    ImageSpec::new("rules:2")
        .layer(
            LayerSpec::new(BASE)
                .file_sized(&vendored, 777, 1)
                .file_sized("var/lib/apt/lists/deb.debian.org_InRelease", 5000, 2)
                .file_sized("app/.git/HEAD", 23, 3),
        )
        .write(&img, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write");
    let mut yaml =
        String::from("rules:\n  - id: many-vendored\n    category: source\n    paths:\n");
    for i in 0..50 {
        let q = ["?".repeat(100), "?".repeat(100), "?".repeat(100)].join("-");
        yaml += &format!("      - '/opt/vendor-{i:02}/**/{q}-*/**/*.{{c,h,cc,hh,cpp,hpp}}'\n");
    }
    let rules = d.path().join("rules.yaml");
    std::fs::write(&rules, yaml).expect("write rules");
    let out = run(
        &[
            img.to_str().expect("utf8"),
            "--json",
            "-",
            "--rules",
            rules.to_str().expect("utf8"),
        ],
        d.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let lo = v["bathyscaphe"]["leftovers"].as_array().expect("leftovers");
    let bytes_of = |rule: &str| -> Vec<u64> {
        lo.iter()
            .filter(|l| l["rule"] == rule)
            .filter_map(|l| l["bytes"].as_u64())
            .collect()
    };
    // the one vendored file (777 bytes) under the user rule
    assert_eq!(bytes_of("many-vendored"), vec![777]);
    // the built-in path rules: apt lists (5000 bytes) and .git (23 bytes)
    let cats: Vec<(&str, u64)> = lo
        .iter()
        .filter(|l| l["rule"] != "many-vendored")
        .map(|l| {
            (
                l["category"].as_str().unwrap_or(""),
                l["bytes"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(cats.contains(&("package-cache", 5000)), "{cats:?}");
    assert!(cats.contains(&("vcs", 23)), "{cats:?}");
}
