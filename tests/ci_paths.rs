//! `--ci` path rules: `ignore-paths` takes paths' bytes out of the waste and leftover rules,
//! `forbid-paths` fails on paths of the final filesystem and `forbid-paths-anywhere` on paths
//! of any layer; from flags (repeatable, implying `--ci`) and `.dive-ci`, and every CI format
//! names the paths and layers. Images from the test helper; every number worked out by hand.

mod common;
use bathyscaphe::analysis::ci_rules::{CiRule, CiRuleResult, Quantity, Status};
use bathyscaphe::report::ci::CiReport;
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, spec: &ImageSpec) -> PathBuf {
    let p = dir.join(name);
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write image");
    p
}

/// Every rule on by default turned off, so a test sees only the rule it sets.
const DEFAULTS_OFF: [&str; 8] = [
    "--lowestEfficiency",
    "disabled",
    "--highestWastedBytes",
    "disabled",
    "--highestUserWastedPercent",
    "disabled",
    "--forbidden-findings",
    "disabled",
];

/// `bathy IMAGE ARGS... --ci-format json` (no `--ci`: the path flags must imply it).
fn eval(dir: &Path, image: &Path, args: &[&str]) -> (i32, CiReport) {
    let mut all = vec![image.to_str().expect("utf-8 path"), "--ci-format", "json"];
    // the defaults the test does not set itself
    all.extend(
        DEFAULTS_OFF
            .chunks(2)
            .filter(|pair| !args.contains(&pair[0]))
            .flatten(),
    );
    all.extend_from_slice(args);
    let o = run(&all, dir);
    let report = serde_json::from_slice::<CiReport>(&o.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: no JSON report ({e}); stderr: {}", stderr(&o)));
    (o.status.code().unwrap_or(-1), report)
}

fn result(r: &CiReport, rule: CiRule) -> CiRuleResult {
    r.evaluation
        .results
        .iter()
        .find(|x| x.rule == rule)
        .cloned()
        .expect("rule in report")
}

fn culprits(r: &CiRuleResult) -> Vec<(String, u64, Option<usize>, String)> {
    r.culprits
        .iter()
        .map(|c| (c.name.clone(), c.bytes, c.layer, c.detail.clone()))
        .collect()
}

/// Layer 0: templates.dat (4000 B), /bin/app (2000); layer 1: templates.dat again (5000),
/// /data/blob (1000); layer 2: /data/blob again (3000).
///
/// dive, per path (copies, Σ, smallest): templates 2, 9000, 4000; blob 2, 4000, 1000; app 1,
/// 2000, 2000. Needed 7000 of 15000: efficiency 0.4667; wasted 9000 + 4000 = 13000; user bytes
/// 5000 + 1000 + 3000 = 9000, user wasted 1.444. True waste: the hidden first copies, 4000 +
/// 1000 = 5000.
///
/// Ignoring `/var/cache/debconf/**`: templates' 9000 are not waste, so wasted = 4000,
/// efficiency = (7000 + 9000 - 4000) / 15000 = 0.8, user wasted = 4000 / 9000 = 0.444, true
/// waste = 1000.
fn waste_image() -> ImageSpec {
    ImageSpec::new("waste:1")
        .layer(
            LayerSpec::new("ADD base /")
                .file_sized("var/cache/debconf/templates.dat", 4000, 1)
                .file_sized("bin/app", 2000, 2),
        )
        .layer(
            LayerSpec::new("RUN apt-get install -y tzdata")
                .file_sized("var/cache/debconf/templates.dat", 5000, 3)
                .file_sized("data/blob", 1000, 4),
        )
        .layer(LayerSpec::new("RUN make-blob").file_sized("data/blob", 3000, 5))
}

const IGNORE_DEBCONF: [&str; 2] = ["--ignore-paths", "/var/cache/debconf/**"];

#[test]
fn ignored_paths_do_not_count_as_dive_waste() {
    let dir = tmp();
    let img = write(dir.path(), "w.tar", &waste_image());
    let with = |args: &[&str]| {
        let mut v = IGNORE_DEBCONF.to_vec();
        v.extend_from_slice(args);
        eval(dir.path(), &img, &v)
    };

    // lowest-efficiency 0.8: 0.4667 fails; with templates ignored exactly 0.8 passes
    let (code, r) = eval(dir.path(), &img, &["--lowestEfficiency", "0.8"]);
    assert_eq!(code, 1);
    let e = result(&r, CiRule::LowestEfficiency);
    assert_eq!(e.measured, Some(Quantity::Ratio(7000.0 / 15000.0)));
    let (code, r) = with(&["--lowestEfficiency", "0.8"]);
    let e = result(&r, CiRule::LowestEfficiency);
    assert_eq!((code, e.status), (0, Status::Pass), "{e:?}");
    assert_eq!(e.measured, Some(Quantity::Ratio(0.8)));
    assert_eq!(e.message, "ignore-paths left out 9000 bytes");
    // the headline keeps dive's own number
    assert_eq!(r.evaluation.measures.efficiency, 7000.0 / 15000.0);

    // highest-wasted-bytes: 13000 without; 4000 with (at 4000 passes, at 3999 fails naming
    // only the blob)
    let (code, r) = eval(dir.path(), &img, &["--highestWastedBytes", "4000"]);
    assert_eq!(code, 1);
    assert_eq!(
        result(&r, CiRule::HighestWastedBytes).measured,
        Some(Quantity::Bytes(13_000))
    );
    let (code, r) = with(&["--highestWastedBytes", "4000"]);
    assert_eq!(code, 0);
    assert_eq!(
        result(&r, CiRule::HighestWastedBytes).measured,
        Some(Quantity::Bytes(4000))
    );
    let (code, r) = with(&["--highestWastedBytes", "3999"]);
    let w = result(&r, CiRule::HighestWastedBytes);
    assert_eq!(code, 1);
    assert_eq!(
        w.message,
        "too many bytes wasted (wasted-bytes=4000 > threshold=3999); ignore-paths left out 9000 bytes"
    );
    assert_eq!(
        culprits(&w),
        [("/data/blob".to_string(), 4000, None, "2 copies".to_string())]
    );

    // highest-user-wasted-percent 0.5: 13000/9000 fails, 4000/9000 passes
    let (code, _) = eval(dir.path(), &img, &["--highestUserWastedPercent", "0.5"]);
    assert_eq!(code, 1);
    let (code, r) = with(&["--highestUserWastedPercent", "0.5"]);
    assert_eq!(code, 0);
    assert_eq!(
        result(&r, CiRule::HighestUserWastedPercent).measured,
        Some(Quantity::Ratio(4000.0 / 9000.0))
    );
}

#[test]
fn ignored_paths_do_not_count_as_true_waste() {
    let dir = tmp();
    let img = write(dir.path(), "w.tar", &waste_image());
    // 5000 without; 1000 with: at 1000 passes, at 999 fails naming the blob's layer-1 copy
    let (code, r) = eval(dir.path(), &img, &["--max-true-waste", "1000"]);
    assert_eq!(code, 1);
    assert_eq!(
        result(&r, CiRule::MaxTrueWaste).measured,
        Some(Quantity::Bytes(5000))
    );
    let mut args = IGNORE_DEBCONF.to_vec();
    args.extend(["--max-true-waste", "1000"]);
    let (code, r) = eval(dir.path(), &img, &args);
    assert_eq!(code, 0);
    assert_eq!(
        result(&r, CiRule::MaxTrueWaste).measured,
        Some(Quantity::Bytes(1000))
    );
    let mut args = IGNORE_DEBCONF.to_vec();
    args.extend(["--max-true-waste", "999"]);
    let (code, r) = eval(dir.path(), &img, &args);
    let t = result(&r, CiRule::MaxTrueWaste);
    assert_eq!(code, 1);
    assert_eq!(
        culprits(&t),
        [(
            "/data/blob".to_string(),
            1000,
            Some(1),
            "layer 1".to_string()
        )]
    );
    assert!(
        t.message.ends_with("; ignore-paths left out 4000 bytes"),
        "{}",
        t.message
    );
}

/// gcc's cc1 (9000 B) and lto1 (3000 B), one `compiler` finding for /usr/lib/gcc of 12000 B,
/// and one apt index (`package-cache`, 5000 B).
fn leftover_image() -> ImageSpec {
    ImageSpec::new("left:1")
        .layer(LayerSpec::new("ADD rootfs /").file_sized("usr/bin/sh", 700, 4))
        .layer(
            LayerSpec::new("RUN apt-get update && apt-get install -y gcc-12")
                .file_sized(
                    "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
                    5000,
                    2,
                )
                .file_sized("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 9000, 1)
                .file_sized("usr/lib/gcc/x86_64-linux-gnu/12/lto1", 3000, 3),
        )
}

#[test]
fn ignored_paths_do_not_count_as_leftovers() {
    let dir = tmp();
    let img = write(dir.path(), "l.tar", &leftover_image());
    // 9000 + 3000 + 5000 = 17000 without
    let (code, r) = eval(dir.path(), &img, &["--max-leftover-bytes", "9000"]);
    assert_eq!(code, 1);
    assert_eq!(
        result(&r, CiRule::MaxLeftoverBytes).measured,
        Some(Quantity::Bytes(17_000))
    );
    // the apt lists wholly ignored, lto1 out of the gcc finding: 9000 left, at 9000 passes
    let args = [
        "--ignore-paths",
        "/var/lib/apt/lists/**",
        "--ignore-paths",
        "**/lto1",
        "--max-leftover-bytes",
        "9000",
    ];
    let (code, r) = eval(dir.path(), &img, &args);
    let m = result(&r, CiRule::MaxLeftoverBytes);
    assert_eq!((code, m.measured), (0, Some(Quantity::Bytes(9000))));
    assert_eq!(m.message, "ignore-paths left out 8000 bytes");
    // ... and at 8999 fails, naming what is left of the gcc finding
    let mut args = args.to_vec();
    args[5] = "8999";
    let (code, r) = eval(dir.path(), &img, &args);
    let m = result(&r, CiRule::MaxLeftoverBytes);
    assert_eq!(code, 1);
    assert_eq!(
        culprits(&m),
        [(
            "/usr/lib/gcc".to_string(),
            9000,
            Some(1),
            "compiler".to_string()
        )]
    );
    // a category whose every file is ignored is not found
    let (code, r) = eval(
        dir.path(),
        &img,
        &[
            "--forbidden-leftovers",
            "package-cache",
            "--ignore-paths",
            "/var/lib/apt/lists/**",
        ],
    );
    let f = result(&r, CiRule::ForbiddenLeftovers);
    assert_eq!((code, f.status), (0, Status::Pass));
    assert_eq!(f.message, "ignore-paths left out 5000 bytes");
    let (code, _) = eval(
        dir.path(),
        &img,
        &["--forbidden-leftovers", "package-cache"],
    );
    assert_eq!(code, 1);
}

/// Layer 0: /etc/hostname (10 B), /root/.ssh/known_hosts (20 B); layer 1: /app/.env (10 B),
/// /app/main.py (30 B); layer 2 deletes /app/.env; layer 3: /srv/.env (7 B).
fn path_image() -> ImageSpec {
    ImageSpec::new("paths:1")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file("etc/hostname", b"container\n")
                .file_sized("root/.ssh/known_hosts", 20, 1),
        )
        .layer(
            LayerSpec::new("COPY . /app")
                .file("app/.env", b"just text\n")
                .file_sized("app/main.py", 30, 2),
        )
        .layer(LayerSpec::new("RUN rm /app/.env").whiteout("app/.env"))
        .layer(LayerSpec::new("COPY srv.env /srv/.env").file("srv/.env", b"nothing"))
}

#[test]
fn forbid_paths_judges_the_final_filesystem() {
    let dir = tmp();
    let img = write(dir.path(), "p.tar", &path_image());
    // /app/.env was deleted: only /srv/.env is in the final filesystem
    let (code, r) = eval(dir.path(), &img, &["--forbid-paths", "**/.env"]);
    let f = result(&r, CiRule::ForbidPaths);
    assert_eq!((code, f.status), (1, Status::Fail));
    assert_eq!(f.configured.as_deref(), Some("**/.env"));
    assert_eq!(f.measured, Some(Quantity::Count(1)));
    assert_eq!(f.message, "1 forbidden path in the final filesystem");
    assert_eq!(
        culprits(&f),
        [(
            "/srv/.env".to_string(),
            7,
            Some(3),
            "layer 3, matches **/.env".to_string()
        )]
    );
    // `/root/.ssh/**` is what is below the directory, not the directory
    let (code, r) = eval(
        dir.path(),
        &img,
        &[
            "--forbid-paths",
            "/root/.ssh/**",
            "--forbid-paths",
            "/app/.env",
        ],
    );
    let f = result(&r, CiRule::ForbidPaths);
    assert_eq!(code, 1);
    assert_eq!(f.configured.as_deref(), Some("/root/.ssh/**, /app/.env"));
    assert_eq!(
        culprits(&f),
        [(
            "/root/.ssh/known_hosts".to_string(),
            20,
            Some(0),
            "layer 0, matches /root/.ssh/**".to_string()
        )]
    );
    // a deleted path and a glob that matches nothing pass
    let (code, r) = eval(
        dir.path(),
        &img,
        &[
            "--forbid-paths",
            "/app/.env",
            "--forbid-paths",
            "/app/{x,y}.py",
        ],
    );
    let f = result(&r, CiRule::ForbidPaths);
    assert_eq!((code, f.status), (0, Status::Pass));
    assert_eq!(f.measured, Some(Quantity::Count(0)));
    // braces: either name
    let (code, r) = eval(dir.path(), &img, &["--forbid-paths", "/app/{main,x}.py"]);
    assert_eq!(code, 1);
    assert_eq!(
        result(&r, CiRule::ForbidPaths).culprits[0].name,
        "/app/main.py"
    );
}

#[test]
fn forbid_paths_anywhere_finds_deleted_files() {
    let dir = tmp();
    let img = write(dir.path(), "p.tar", &path_image());
    let (code, r) = eval(dir.path(), &img, &["--forbid-paths-anywhere", "**/.env"]);
    let f = result(&r, CiRule::ForbidPathsAnywhere);
    assert_eq!((code, f.status), (1, Status::Fail));
    assert_eq!(f.measured, Some(Quantity::Count(2)));
    assert_eq!(f.message, "2 forbidden paths in the layers");
    assert_eq!(
        culprits(&f),
        [
            (
                "/app/.env".to_string(),
                10,
                Some(1),
                "layer 1, matches **/.env, deleted in layer 2, still shipped".to_string()
            ),
            (
                "/srv/.env".to_string(),
                7,
                Some(3),
                "layer 3, matches **/.env, visible".to_string()
            ),
        ]
    );
    // the same glob passes in the final filesystem where the file is gone
    let (code, r) = eval(
        dir.path(),
        &img,
        &[
            "--forbid-paths",
            "/app/.env",
            "--forbid-paths-anywhere",
            "/app/.env",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(result(&r, CiRule::ForbidPaths).status, Status::Pass);
    assert_eq!(result(&r, CiRule::ForbidPathsAnywhere).status, Status::Fail);
    // the whiteout itself (/app/.wh..env) is a deletion, not a path
    let (code, _) = eval(dir.path(), &img, &["--forbid-paths-anywhere", "/app/.wh.*"]);
    assert_eq!(code, 0);
}

#[test]
fn path_lists_from_the_config_file_and_flags_add_up() {
    let dir = tmp();
    let img = write(dir.path(), "p.tar", &path_image());
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: disabled\n  highestUserWastedPercent: disabled\n  forbidden-findings: disabled\n  forbid-paths: ['/root/.ssh/**']\n  forbid-paths-anywhere: '**/.env'\n  ignore-paths:\n    - /var/cache/**\n",
    )
    .expect("write config");
    let o = run(
        &[img.to_str().expect("utf-8"), "--ci", "--ci-format", "json"],
        dir.path(),
    );
    let r: CiReport = serde_json::from_slice(&o.stdout).expect("report");
    assert_eq!(o.status.code(), Some(1));
    let f = result(&r, CiRule::ForbidPaths);
    assert_eq!(f.configured.as_deref(), Some("/root/.ssh/**"));
    assert_eq!(f.culprits.len(), 1);
    let a = result(&r, CiRule::ForbidPathsAnywhere);
    assert_eq!(a.configured.as_deref(), Some("**/.env"));
    assert_eq!(a.culprits.len(), 2);
    // a flag adds to the file's list
    let o = run(
        &[
            img.to_str().expect("utf-8"),
            "--ci-format",
            "json",
            "--forbid-paths",
            "/etc/hostname",
        ],
        dir.path(),
    );
    let r: CiReport = serde_json::from_slice(&o.stdout).expect("report");
    let f = result(&r, CiRule::ForbidPaths);
    assert_eq!(
        f.configured.as_deref(),
        Some("/root/.ssh/**, /etc/hostname")
    );
    assert_eq!(
        f.culprits
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["/etc/hostname", "/root/.ssh/known_hosts"]
    );
}

#[test]
fn bad_globs_exit_2_naming_where_they_came_from() {
    let dir = tmp();
    let img = write(dir.path(), "p.tar", &path_image());
    let img = img.to_str().expect("utf-8");
    for (args, expected) in [
        (
            vec![img, "--forbid-paths", ".env"],
            "bathy: --forbid-paths: glob \".env\" must start with / or ** (paths in an image are absolute: /app/.env, **/.env)\n",
        ),
        (
            vec![img, "--ignore-paths", "/a/{b"],
            "bathy: --ignore-paths: glob \"/a/{b\" does not compile (an unclosed { or too large)\n",
        ),
    ] {
        let o = run(&args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o), expected);
    }
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  forbid-paths-anywhere: [ok/relative]\n",
    )
    .expect("write config");
    let o = run(&[img, "--ci"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .starts_with("bathy: .dive-ci: rules.forbid-paths-anywhere: glob \"ok/relative\""),
        "{}",
        stderr(&o)
    );
}

/// Each format names the failing path and its layer.
#[test]
fn path_failures_in_every_format() {
    let dir = tmp();
    let img = write(dir.path(), "p.tar", &path_image());
    let img = img.to_str().expect("utf-8");
    let wanted = "layer 1, matches **/.env, deleted in layer 2, still shipped";
    for format in ["text", "json", "junit", "sarif", "github"] {
        let mut args = vec![
            img,
            "--forbid-paths-anywhere",
            "**/.env",
            "--ci-format",
            format,
        ];
        args.extend_from_slice(&DEFAULTS_OFF);
        let o = run(&args, dir.path());
        assert_eq!(o.status.code(), Some(1), "{format}");
        let out = stdout(&o);
        assert!(out.contains("/app/.env"), "{format}: {out}");
        assert!(out.contains(wanted), "{format}: {out}");
        assert!(out.contains("forbid-paths-anywhere"), "{format}: {out}");
    }
}

/// The config file's `ci:` section holds what a `.dive-ci` holds, the path lists included.
#[test]
fn path_lists_from_the_config_files_ci_section() {
    let dir = tmp();
    let img = write(dir.path(), "p.tar", &path_image());
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "ci:\n  rules:\n    forbidden-findings: disabled\n    forbid-paths-anywhere: ['**/.env']\n",
    )
    .expect("write config");
    let o = run(
        &[
            img.to_str().expect("utf-8"),
            "--config",
            cfg.to_str().expect("utf-8"),
            "--ci",
            "--ci-format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: CiReport = serde_json::from_slice(&o.stdout).expect("report");
    let a = result(&r, CiRule::ForbidPathsAnywhere);
    assert_eq!(
        a.culprits
            .iter()
            .map(|c| (c.name.as_str(), c.layer))
            .collect::<Vec<_>>(),
        [("/app/.env", Some(1)), ("/srv/.env", Some(3))]
    );
}
