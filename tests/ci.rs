//! `--ci`: every rule passes below its threshold, passes exactly at it (comparisons are strict,
//! as dive's) and fails just past it, through the binary's exit status; dive's own example config
//! on dive's test image gives dive's verdicts; the machine formats hold their structure.

mod common;
use bathyscaphe::analysis::ci_rules::{
    self, CiInput, CiRule, CiThresholds, Evaluation, Gate, LeftoverCategory, LeftoverSummary,
    Status, Threshold,
};
use bathyscaphe::analysis::leftovers::Category;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::report::ci::CiReport;
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Write `spec` as `name` in `dir`, uncompressed docker-archive.
fn write(dir: &Path, name: &str, spec: &ImageSpec) -> PathBuf {
    let p = dir.join(name);
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write image");
    p
}

/// `bathy IMAGE --ci ARGS... --ci-format json` in `dir`; the exit status and parsed report.
fn ci_json(dir: &Path, image: &Path, args: &[&str]) -> (i32, Option<CiReport>, Output) {
    let mut all = vec![
        image.to_str().expect("utf-8 path"),
        "--ci",
        "--ci-format",
        "json",
    ];
    all.extend_from_slice(args);
    let o = run(&all, dir);
    let report = serde_json::from_slice::<CiReport>(&o.stdout).ok();
    (o.status.code().unwrap_or(-1), report, o)
}

fn status_of(r: &CiReport, rule: CiRule) -> Status {
    r.evaluation
        .results
        .iter()
        .find(|x| x.rule == rule)
        .map(|x| x.status)
        .expect("rule in report")
}

/// dive's rules are on by default; tests of one rule turn the others off.
const DIVE_OFF: [&str; 6] = [
    "--lowestEfficiency",
    "disabled",
    "--highestWastedBytes",
    "off",
    "--highestUserWastedPercent",
    "false",
];

/// Three images for one rule and one threshold: below (pass), at (pass), just past (fail).
fn check_rule(rule: CiRule, flag: &str, threshold: &str, images: [ImageSpec; 3]) {
    let dir = tmp();
    let expected = [(Status::Pass, 0), (Status::Pass, 0), (Status::Fail, 1)];
    for (i, (spec, (status, code))) in images.iter().zip(expected).enumerate() {
        let img = write(dir.path(), &format!("img{i}.tar"), spec);
        let mut args: Vec<&str> = DIVE_OFF
            .chunks(2)
            .filter(|pair| pair[0] != flag)
            .flatten()
            .copied()
            .collect();
        args.push(flag);
        args.push(threshold);
        let (got, report, o) = ci_json(dir.path(), &img, &args);
        let report = report.unwrap_or_else(|| {
            panic!(
                "{flag} {threshold}, image {i}: no JSON report; stderr: {}",
                stderr(&o)
            )
        });
        assert_eq!(
            status_of(&report, rule),
            status,
            "{flag} {threshold}, image {i}: {:?}",
            report.evaluation.results
        );
        assert_eq!(got, code, "{flag} {threshold}, image {i}: exit status");
    }
}

/// layer 0: `a` (x1 bytes), `b` (y); layer 1: `a` again (x2, other content), `c` (z).
/// dive: Σmin = min(x1,x2)+y+z, Σcum = x1+x2+y+z, wasted = x1+x2, user size = x2+z.
/// True waste = x1 (the first `a` is hidden); size = x1+x2+y+z.
fn dive_image(x1: usize, x2: usize, y: usize, z: usize) -> ImageSpec {
    ImageSpec::new("ci:test")
        .layer(
            LayerSpec::new("ADD base /")
                .file_sized("a", x1, 1)
                .file_sized("b", y, 2),
        )
        .layer(
            LayerSpec::new("RUN build")
                .file_sized("a", x2, 3)
                .file_sized("c", z, 4),
        )
}

#[test]
fn lowest_efficiency_is_strict() {
    // efficiency = (1000 + y + 3000) / (2000 + y + 3000): y=7000 → 11000/12000 = 0.9167;
    // y=3000 → 7000/8000 = 0.875 exactly; y=2999 → 6999/7999 = 0.87498 < 0.875
    check_rule(
        CiRule::LowestEfficiency,
        "--lowestEfficiency",
        "0.875",
        [
            dive_image(1000, 1000, 7000, 3000),
            dive_image(1000, 1000, 3000, 3000),
            dive_image(1000, 1000, 2999, 3000),
        ],
    );
}

#[test]
fn highest_wasted_bytes_is_strict() {
    // wasted = x1 + x2: 999+999 = 1998, 1000+1000 = 2000 (= 2kB), 1000+1001 = 2001
    let images = || {
        [
            dive_image(999, 999, 10, 10),
            dive_image(1000, 1000, 10, 10),
            dive_image(1000, 1001, 10, 10),
        ]
    };
    check_rule(
        CiRule::HighestWastedBytes,
        "--highestWastedBytes",
        "2kB",
        images(),
    );
    check_rule(
        CiRule::HighestWastedBytes,
        "--highestWastedBytes",
        "2000",
        images(),
    );
    check_rule(
        CiRule::HighestWastedBytes,
        "--highestWastedBytes",
        "2 KB",
        images(),
    );
}

#[test]
fn highest_user_wasted_percent_is_strict() {
    // (x1+x2) / (x2+z) = 2000 / (1000+z): z=5000 → 0.333; z=3000 → 0.5; z=2999 → 2000/3999 = 0.50013
    check_rule(
        CiRule::HighestUserWastedPercent,
        "--highestUserWastedPercent",
        "0.5",
        [
            dive_image(1000, 1000, 10, 5000),
            dive_image(1000, 1000, 10, 3000),
            dive_image(1000, 1000, 10, 2999),
        ],
    );
}

#[test]
fn user_wasted_percent_of_no_user_bytes_passes_as_in_dive() {
    // one layer: user size 0, dive's NaN; `NaN > 0` is false, so even a 0 threshold passes
    let dir = tmp();
    let img = write(
        dir.path(),
        "one.tar",
        &ImageSpec::new("one:1").layer(LayerSpec::new("ADD / /").file_sized("a", 10, 1)),
    );
    let (code, report, _) = ci_json(dir.path(), &img, &["--highestUserWastedPercent", "0"]);
    let report = report.expect("report");
    assert_eq!(
        status_of(&report, CiRule::HighestUserWastedPercent),
        Status::Pass
    );
    assert_eq!(report.evaluation.measures.user_wasted_percent, None);
    assert_eq!(code, 0);
}

#[test]
fn max_true_waste_bytes_and_percent() {
    // true waste = x1: 999, 1000, 1001 against 1000 bytes
    check_rule(
        CiRule::MaxTrueWaste,
        "--max-true-waste",
        "1000",
        [
            dive_image(999, 10, 10, 10),
            dive_image(1000, 10, 10, 10),
            dive_image(1001, 10, 10, 10),
        ],
    );
    // x1 / (x1+x2+y+z) = 1000 / (1000+1000+3000+z): z=5001 → 1000/10001 < 10%;
    // z=5000 → 1000/10000 = 10%; z=4999 → 1000/9999 > 10%
    check_rule(
        CiRule::MaxTrueWaste,
        "--max-true-waste",
        "10%",
        [
            dive_image(1000, 1000, 3000, 5001),
            dive_image(1000, 1000, 3000, 5000),
            dive_image(1000, 1000, 3000, 4999),
        ],
    );
}

fn one_file(n: usize) -> ImageSpec {
    ImageSpec::new("size:1").layer(LayerSpec::new("ADD f /").file_sized("f", n, 7))
}

#[test]
fn max_image_size_is_strict() {
    // size = the file's bytes: 9999, 10000, 10001 against 10kB = 10000
    check_rule(
        CiRule::MaxImageSize,
        "--max-image-size",
        "10kB",
        [one_file(9999), one_file(10_000), one_file(10_001)],
    );
}

#[test]
fn max_compressed_size_is_strict() {
    // an uncompressed layer blob is the tar itself: 512-byte header + content padded to 512 +
    // 1024 bytes of end marker. 0 bytes → 1536; 512 → 2048; 513 → 512 + 1024 + 1024 = 2560
    check_rule(
        CiRule::MaxCompressedSize,
        "--max-compressed-size",
        "2KiB",
        [one_file(0), one_file(512), one_file(513)],
    );
}

#[test]
fn max_growth_against_a_baseline() {
    let dir = tmp();
    let base_spec =
        ImageSpec::new("app:1").layer(LayerSpec::new("ADD base /").file_sized("base", 10_000, 1));
    let base = write(dir.path(), "base.tar", &base_spec);
    let grown = |n: usize| {
        base_spec
            .clone()
            .layer(LayerSpec::new("COPY app /app").file_sized("app", n, 2))
    };
    // growth = n against 1000 bytes: 999, 1000, 1001; against 10% of 10000 = 1000 the same
    for limit in ["1000", "1kB", "10%"] {
        for (n, status, code) in [
            (999, Status::Pass, 0),
            (1000, Status::Pass, 0),
            (1001, Status::Fail, 1),
        ] {
            let img = write(dir.path(), &format!("grown{n}.tar"), &grown(n));
            let mut args = DIVE_OFF.to_vec();
            args.extend([
                "--max-growth",
                limit,
                "--baseline",
                base.to_str().expect("utf-8"),
            ]);
            let (got, report, o) = ci_json(dir.path(), &img, &args);
            let report = report.unwrap_or_else(|| panic!("no report: {}", stderr(&o)));
            assert_eq!(
                status_of(&report, CiRule::MaxGrowth),
                status,
                "{limit} n={n}"
            );
            assert_eq!(got, code, "{limit} n={n}");
            if status == Status::Fail {
                // the growth came from the layer the baseline lacks
                let r = report
                    .evaluation
                    .results
                    .iter()
                    .find(|r| r.rule == CiRule::MaxGrowth)
                    .expect("rule");
                assert_eq!(r.culprits.len(), 1);
                assert_eq!((r.culprits[0].layer, r.culprits[0].bytes), (Some(1), 1001));
            }
        }
    }
    // no growth passes a 0 limit; a shrinking image too (growth -10000 bytes)
    let empty = write(
        dir.path(),
        "empty.tar",
        &ImageSpec::new("app:0").layer(LayerSpec::new("ADD nothing /")),
    );
    for img in [&base, &empty] {
        let mut args = DIVE_OFF.to_vec();
        args.extend([
            "--max-growth",
            "0",
            "--baseline",
            base.to_str().expect("utf-8"),
        ]);
        let (code, report, _) = ci_json(dir.path(), img, &args);
        assert_eq!(
            status_of(&report.expect("report"), CiRule::MaxGrowth),
            Status::Pass
        );
        assert_eq!(code, 0);
    }
    // without a baseline the rule is skipped, saying why
    let img = write(dir.path(), "alone.tar", &grown(5));
    let mut args = DIVE_OFF.to_vec();
    args.extend(["--max-growth", "1"]);
    let (code, report, _) = ci_json(dir.path(), &img, &args);
    let report = report.expect("report");
    let r = report
        .evaluation
        .results
        .iter()
        .find(|r| r.rule == CiRule::MaxGrowth)
        .expect("rule");
    assert_eq!(
        (r.status, r.message.as_str()),
        (Status::Skip, "no baseline image given (--baseline IMAGE)")
    );
    assert_eq!(code, 0);
}

/// An image whose leftovers are gcc's `cc1` (`compiler`, `cc1` bytes, when given) and one apt
/// index (`package-cache`, 5000 bytes; apt's empty lock file is excluded by its rule), beside a
/// shell and an app binary that are no leftovers.
fn leftover_image(cc1: Option<usize>) -> ImageSpec {
    let mut install = LayerSpec::new("RUN apt-get update && apt-get install -y gcc-12")
        .file_sized(
            "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
            5000,
            2,
        )
        .file_sized("var/lib/apt/lists/lock", 0, 3);
    if let Some(n) = cc1 {
        install = install.file_sized("usr/lib/gcc/x86_64-linux-gnu/12/cc1", n, 1);
    }
    ImageSpec::new("left:1")
        .layer(LayerSpec::new("ADD rootfs /").file_sized("usr/bin/sh", 700, 4))
        .layer(install)
        .layer(LayerSpec::new("COPY server /app/server").file_sized("app/server", 3000, 5))
        .cmd(&["/app/server"])
}

fn result_of(r: &CiReport, rule: CiRule) -> &ci_rules::CiRuleResult {
    r.evaluation
        .results
        .iter()
        .find(|x| x.rule == rule)
        .expect("rule in report")
}

#[test]
fn max_leftover_bytes_is_strict() {
    // leftovers = cc1 + 5000 (apt lists) against 10kB = 10000: 4999 → 9999 passes,
    // 5000 → 10000 passes (strict), 5001 → 10001 fails; /usr/bin/sh and /app/server never count
    check_rule(
        CiRule::MaxLeftoverBytes,
        "--max-leftover-bytes",
        "10kB",
        [
            leftover_image(Some(4999)),
            leftover_image(Some(5000)),
            leftover_image(Some(5001)),
        ],
    );
    // the failure measures 10001 bytes and names both findings, largest first, with their
    // category and the layer that added them (layer 1, the RUN)
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &leftover_image(Some(5001)));
    let mut args = DIVE_OFF.to_vec();
    args.extend(["--max-leftover-bytes", "10kB"]);
    let (code, report, o) = ci_json(dir.path(), &img, &args);
    let report = report.unwrap_or_else(|| panic!("no report: {}", stderr(&o)));
    assert_eq!(code, 1);
    let r = result_of(&report, CiRule::MaxLeftoverBytes);
    assert_eq!(r.measured, Some(ci_rules::Quantity::Bytes(10_001)));
    assert_eq!(
        r.culprits
            .iter()
            .map(|c| (c.name.as_str(), c.bytes, c.layer, c.detail.as_str()))
            .collect::<Vec<_>>(),
        [
            ("/usr/lib/gcc", 5001, Some(1), "compiler"),
            ("/var/lib/apt/lists", 5000, Some(1), "package-cache"),
        ]
    );
    // an image without leftovers measures 0 and passes a 0 limit
    let clean = write(
        dir.path(),
        "clean.tar",
        &ImageSpec::new("clean:1").layer(LayerSpec::new("ADD app /").file_sized("app", 10, 1)),
    );
    let mut args = DIVE_OFF.to_vec();
    args.extend(["--max-leftover-bytes", "0"]);
    let (code, report, _) = ci_json(dir.path(), &clean, &args);
    let report = report.expect("report");
    let r = result_of(&report, CiRule::MaxLeftoverBytes);
    assert_eq!(
        (r.status, r.measured.clone()),
        (Status::Pass, Some(ci_rules::Quantity::Bytes(0)))
    );
    assert_eq!(code, 0);
}

#[test]
fn forbidden_leftovers_fail_only_for_the_listed_categories() {
    let dir = tmp();
    let with_cc1 = write(dir.path(), "gcc.tar", &leftover_image(Some(9000)));
    let without = write(dir.path(), "nogcc.tar", &leftover_image(None));
    let eval = |img: &Path, forbidden: &str| {
        let mut args = DIVE_OFF.to_vec();
        args.extend(["--forbidden-leftovers", forbidden]);
        let (code, report, o) = ci_json(dir.path(), img, &args);
        let report = report.unwrap_or_else(|| panic!("no report: {}", stderr(&o)));
        (code, result_of(&report, CiRule::ForbiddenLeftovers).clone())
    };
    // cc1 is a compiler leftover: forbidden, it fails naming its 9000 bytes and path
    let (code, r) = eval(&with_cc1, "compiler");
    assert_eq!((code, r.status), (1, Status::Fail));
    assert_eq!(r.message, "forbidden leftovers found: compiler (9000 B)");
    assert_eq!(
        r.culprits
            .iter()
            .map(|c| (c.name.as_str(), c.bytes))
            .collect::<Vec<_>>(),
        [("/usr/lib/gcc", 9000)]
    );
    // without cc1 the apt index is still there, but package-cache is not forbidden
    let (code, r) = eval(&without, "compiler");
    assert_eq!((code, r.status), (0, Status::Pass));
    assert_eq!(
        r.measured,
        Some(ci_rules::Quantity::Categories(Vec::new())),
        "{r:?}"
    );
    // ... until it is
    let (code, r) = eval(&without, "compiler,package-cache");
    assert_eq!((code, r.status), (1, Status::Fail));
    assert_eq!(
        r.message,
        "forbidden leftovers found: package-cache (5000 B)"
    );

    // gcc installed by dpkg: cc1 goes to the gcc path rule (9000), gcc-12's other file to the
    // package rule, whose finding names the package: 9000 + 3000 = 12000 compiler bytes
    let dpkg = write(
        dir.path(),
        "dpkg.tar",
        &ImageSpec::new("dpkg:1").layer(
            LayerSpec::new("RUN apt-get install -y gcc-12")
                .file_sized("usr/bin/gcc-12", 3000, 1)
                .file_sized("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 9000, 2)
                .file(
                    "var/lib/dpkg/status",
                    b"Package: gcc-12\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.2.0-14\n\n",
                )
                .file(
                    "var/lib/dpkg/info/gcc-12.list",
                    b"/usr\n/usr/bin\n/usr/bin/gcc-12\n/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n",
                ),
        ),
    );
    let (code, r) = eval(&dpkg, "compiler");
    assert_eq!((code, r.status), (1, Status::Fail));
    assert_eq!(r.message, "forbidden leftovers found: compiler (12000 B)");
    assert_eq!(
        r.culprits
            .iter()
            .map(|c| (c.name.as_str(), c.bytes))
            .collect::<Vec<_>>(),
        [("/usr/lib/gcc", 9000), ("/usr/bin (package gcc-12)", 3000)]
    );
}

#[test]
fn ci_json_export_has_the_why_sections() {
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &leftover_image(Some(9000)));
    let mut args = DIVE_OFF.to_vec();
    args.extend(["--json", "export.json"]);
    let (code, _, o) = ci_json(dir.path(), &img, &args);
    assert_eq!(code, 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("export.json")).expect("export written"),
    )
    .expect("valid json");
    let b = &v["bathyscaphe"];
    let found: Vec<(&str, &str, u64)> = b["leftovers"]
        .as_array()
        .expect("leftovers")
        .iter()
        .map(|l| {
            (
                l["category"].as_str().unwrap_or(""),
                l["path"].as_str().unwrap_or(""),
                l["bytes"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("compiler", "/usr/lib/gcc", 9000),
            ("package-cache", "/var/lib/apt/lists", 5000)
        ]
    );
    for key in ["packages", "stages", "stageSummary", "estimates"] {
        assert!(!b[key].is_null(), "bathyscaphe.{key} missing");
    }
    // final filesystem 700 + 5000 + 0 + 9000 + 3000 = 17700, without leftovers 17700 - 14000
    assert_eq!(b["estimates"]["withoutLeftoversBytes"], 3700);
}

/// The leftover rules on a summary shaped like the leftover analysis's output.
#[test]
fn leftover_rules_on_a_summary() {
    let dir = tmp();
    let (image, analysis) = analyse(dir.path(), &one_file(10));
    let summary = |compiler: u64| LeftoverSummary {
        categories: [
            (
                Category::Compiler,
                LeftoverCategory {
                    bytes: compiler,
                    paths: vec![("/usr/bin/gcc".into(), compiler, 0)],
                },
            ),
            (
                Category::PackageCache,
                LeftoverCategory {
                    bytes: 500,
                    paths: vec![("/var/cache/apt/x.deb".into(), 500, 0)],
                },
            ),
        ]
        .into_iter()
        .collect(),
        ignored_bytes: 0,
    };
    let eval = |cfg: &CiThresholds, s: &LeftoverSummary| -> Evaluation {
        ci_rules::evaluate(
            cfg,
            &CiInput {
                findings: None,
                image: &image,
                analysis: &analysis,
                leftovers: Some(s),
                baseline: None,
                comparison: None,
            },
        )
    };
    let status =
        |e: &Evaluation, rule: CiRule| e.results.iter().find(|r| r.rule == rule).map(|r| r.status);
    // total = compiler + 500 against 2000: 1499 → 1999, 1500 → 2000, 1501 → 2001
    let cfg = CiThresholds {
        max_leftover_bytes: Some(Threshold::new(2000, "2000")),
        ..CiThresholds::default()
    };
    assert_eq!(
        status(&eval(&cfg, &summary(1499)), CiRule::MaxLeftoverBytes),
        Some(Status::Pass)
    );
    assert_eq!(
        status(&eval(&cfg, &summary(1500)), CiRule::MaxLeftoverBytes),
        Some(Status::Pass)
    );
    let failed = eval(&cfg, &summary(1501));
    assert_eq!(
        status(&failed, CiRule::MaxLeftoverBytes),
        Some(Status::Fail)
    );
    let culprits = &failed.results[CiRule::MaxLeftoverBytes as usize].culprits;
    assert_eq!(
        culprits
            .iter()
            .map(|c| (c.name.as_str(), c.bytes))
            .collect::<Vec<_>>(),
        [("/usr/bin/gcc", 1501), ("/var/cache/apt/x.deb", 500)]
    );
    // forbidden categories: absent passes, present fails naming only the forbidden ones
    let cfg = CiThresholds {
        forbidden_leftovers: vec![Category::Compiler, Category::Vcs],
        ..CiThresholds::default()
    };
    let mut clean = summary(0);
    clean.categories.remove(&Category::Compiler);
    assert_eq!(
        status(&eval(&cfg, &clean), CiRule::ForbiddenLeftovers),
        Some(Status::Pass)
    );
    let failed = eval(&cfg, &summary(1));
    assert_eq!(
        status(&failed, CiRule::ForbiddenLeftovers),
        Some(Status::Fail)
    );
    let r = &failed.results[CiRule::ForbiddenLeftovers as usize];
    assert_eq!(r.message, "forbidden leftovers found: compiler (1 B)");
    assert_eq!(
        r.culprits
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["/usr/bin/gcc"]
    );
}

fn fixtures() -> Option<(PathBuf, PathBuf)> {
    let f = require_shared_fixtures()?;
    Some((
        f.join("dive/test-docker-image.tar"),
        f.join("dive/dive-ci.yaml"),
    ))
}

#[test]
fn dives_example_config_gives_dives_verdicts() {
    let Some((image, config)) = fixtures() else {
        return;
    };
    // fixtures/README.md: with dive-ci.yaml (0.95, 20Mb, 0.5) all three PASS
    let dir = tmp();
    std::fs::copy(&config, dir.path().join(".dive-ci")).expect("copy config");
    let (code, report, o) = ci_json(dir.path(), &image, &[]);
    let report = report.unwrap_or_else(|| panic!("no report: {}", stderr(&o)));
    for rule in [
        CiRule::LowestEfficiency,
        CiRule::HighestWastedBytes,
        CiRule::HighestUserWastedPercent,
    ] {
        assert_eq!(status_of(&report, rule), Status::Pass, "{rule:?}");
    }
    assert_eq!(code, 0);
    assert!(
        stderr(&o).contains("Using CI config: .dive-ci"),
        "{}",
        stderr(&o)
    );
    // the same file named with --ci-config, from a directory without .dive-ci
    let other = tmp();
    let (code, _, _) = ci_json(
        other.path(),
        &image,
        &["--ci-config", config.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0);
}

#[test]
fn dives_defaults_give_dives_verdicts() {
    let Some((image, _)) = fixtures() else { return };
    // fixtures/README.md: defaults → efficiency PASS, wasted bytes SKIP, user wasted FAIL
    // (0.4834911001404049 > 0.1), non-zero exit
    let dir = tmp();
    let (code, report, _) = ci_json(dir.path(), &image, &[]);
    let report = report.expect("report");
    assert_eq!(status_of(&report, CiRule::LowestEfficiency), Status::Pass);
    assert_eq!(status_of(&report, CiRule::HighestWastedBytes), Status::Skip);
    assert_eq!(
        status_of(&report, CiRule::HighestUserWastedPercent),
        Status::Fail
    );
    assert_eq!(report.evaluation.measures.efficiency, 0.9844212134184309);
    assert_eq!(report.evaluation.measures.wasted_bytes, 32025);
    assert_eq!(code, 1);
}

#[test]
fn flags_win_over_the_file() {
    let Some((image, config)) = fixtures() else {
        return;
    };
    let dir = tmp();
    std::fs::copy(&config, dir.path().join(".dive-ci")).expect("copy config");
    // the file's 0.5 passes 0.4835; the flag's 0.4 does not (dive 0.13.1 does the same)
    let (code, report, _) = ci_json(dir.path(), &image, &["--highestUserWastedPercent", "0.4"]);
    assert_eq!(
        status_of(&report.expect("report"), CiRule::HighestUserWastedPercent),
        Status::Fail
    );
    assert_eq!(code, 1);
}

#[test]
fn camel_and_kebab_spellings_in_the_file() {
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 3000, 3000));
    // efficiency 0.875, wasted 2000, user wasted 0.5 (see dive_image)
    for text in [
        "rules:\n  lowestEfficiency: 0.875\n  highestWastedBytes: 2kB\n  highestUserWastedPercent: 0.5\n",
        "rules:\n  lowest-efficiency: 0.875\n  highest-wasted-bytes: 2000\n  highest-user-wasted-percent: 0.5\n",
    ] {
        std::fs::write(dir.path().join(".dive-ci"), text).expect("write config");
        let (code, report, _) = ci_json(dir.path(), &img, &[]);
        let report = report.expect("report");
        // dive's three, and forbidden-findings (on by default: nothing found)
        assert_eq!(report.summary.pass, 4, "{text}");
        assert_eq!(code, 0, "{text}");
    }
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.876\n  highestUserWastedPercent: 0.49\n",
    )
    .expect("write");
    let (code, report, _) = ci_json(dir.path(), &img, &[]);
    assert_eq!(report.expect("report").summary.fail, 2);
    assert_eq!(code, 1);
}

#[test]
fn configuration_errors_exit_2_with_one_line() {
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &one_file(10));
    let i = img.to_str().expect("utf-8");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--lowestEfficiency", "1.5"],
            "--lowestEfficiency: \"1.5\" is outside the allowed range (0-1)",
        ),
        (
            vec!["--highestWastedBytes", "1e5"],
            "--highestWastedBytes: \"1e5\": unknown size unit \"e5\"",
        ),
        (
            vec!["--ci-config", "/nonexistent/dive-ci"],
            "/nonexistent/dive-ci: no such CI config file",
        ),
        (
            vec!["--forbidden-leftovers", "compilers"],
            "unknown leftover category \"compilers\"",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec![i, "--ci"];
        all.extend(args.iter().copied());
        let o = run(&all, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(message), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    std::fs::write(dir.path().join(".dive-ci"), "rules: {\n").expect("write");
    let o = run(&[i, "--ci"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("bathy: .dive-ci: "),
        "{}",
        stderr(&o)
    );
    // bad input image
    let o = run(&["/nonexistent.tar", "--ci"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn ci_env_turns_ci_on_and_ci_false_off() {
    let dir = tmp();
    // dive_image(1000,1000,10,10): user wasted 2000/1010 > 0.1 fails dive's default
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 10, 10));
    let i = img.to_str().expect("utf-8");
    let with_ci = |args: &[&str]| {
        bathy()
            .args(args)
            .current_dir(dir.path())
            .env("CI", "true")
            .env("NO_COLOR", "1")
            .output()
            .expect("run")
    };
    let o = with_ci(&[i]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("FAIL  highest-user-wasted-percent"),
        "{}",
        stdout(&o)
    );
    let o = with_ci(&[i, "--ci=false", "--no-tui"]);
    assert_eq!(o.status.code(), Some(0));
    // --json keeps exporting under CI=true
    let o = with_ci(&[i, "--json", "-"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json export");
    assert!(v.get("layer").is_some() || v.get("image").is_some(), "{v}");
}

#[test]
fn text_evaluation_names_rule_threshold_measure_and_culprits() {
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 10, 10));
    let o = run(
        &[
            img.to_str().expect("utf-8"),
            "--ci",
            "--max-true-waste",
            "999",
        ],
        dir.path(),
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.contains('\x1b'), "no colors in a pipe: {out}");
    // efficiency (1000+10+10)/(2000+10+10) = 1020/2020 = 0.50495 < 0.9
    assert!(
        out.contains("FAIL  lowest-efficiency            0.9               0.505"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  max-true-waste               999               1.0 kB (1000 B)"),
        "{out}"
    );
    // the culprit: /a, 1000 bytes hidden, from layer 0
    assert!(out.contains("1.0 kB  /a  (layer 0)"), "{out}");
    assert!(
        out.contains("Result: FAIL  [pass:1 fail:3 skip:8]"),
        "{out}"
    );
}

#[test]
fn junit_report_file_has_one_testcase_per_rule() {
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 3000, 3000));
    let report = dir.path().join("ci.xml");
    // defaults: efficiency 0.875 < 0.9 fails, wasted bytes skip, user wasted 0.5 > 0.1 fails
    let o = run(
        &[
            img.to_str().expect("utf-8"),
            "--ci",
            "--ci-format",
            "junit",
            "--ci-report",
            report.to_str().expect("utf-8"),
            "--max-image-size",
            "1MB",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("Result: FAIL"),
        "the text evaluation still goes to stdout"
    );
    let xml = std::fs::read_to_string(&report).expect("report written");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(
        (root.attribute("tests"), root.attribute("failures")),
        (Some("12"), Some("2"))
    );
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.tag_name().name(), "testsuite");
    assert_eq!(suite.attribute("name"), Some("ci:test"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), Gate::Image.rules().count());
    assert_eq!(suite.attribute("tests"), Some("12"));
    // fail: lowest-efficiency, highest-user-wasted-percent; pass: max-image-size,
    // forbidden-findings; skip: the other 8
    assert_eq!(suite.attribute("failures"), Some("2"));
    assert_eq!(suite.attribute("skipped"), Some("8"));
    assert_eq!(suite.attribute("errors"), Some("0"));
    for c in &cases {
        assert!(c.attribute("name").is_some() && c.attribute("classname").is_some());
        // a testcase holds at most one of failure/skipped/error, before system-out
        let verdicts: Vec<_> = c
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() != "system-out")
            .collect();
        assert!(verdicts.len() <= 1);
        for v in verdicts {
            assert!(["failure", "skipped"].contains(&v.tag_name().name()));
            assert!(v.attribute("message").is_some());
        }
    }
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c.attribute("name") == Some(name))
            .copied()
            .expect("case")
    };
    assert!(case("lowest-efficiency")
        .children()
        .any(|n| n.has_tag_name("failure")));
    assert!(case("highest-wasted-bytes")
        .children()
        .any(|n| n.has_tag_name("skipped")));
    assert!(!case("max-image-size")
        .children()
        .any(|n| n.has_tag_name("failure") || n.has_tag_name("skipped")));
}

#[test]
fn sarif_report_follows_the_2_1_0_structure() {
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 3000, 3000));
    let o = run(
        &[
            img.to_str().expect("utf-8"),
            "--ci",
            "--ci-format",
            "sarif",
            "--max-true-waste",
            "10%",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("SARIF is JSON");
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"]
        .as_str()
        .is_some_and(|s| s.contains("sarif-2.1.0")));
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "bathyscaphe");
    let rule_ids: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        rule_ids,
        Gate::Image.rules().map(|r| r.key).collect::<Vec<_>>()
    );
    let results = runs[0]["results"].as_array().expect("results");
    assert_eq!(results.len(), rule_ids.len());
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rule_ids[idx], id, "ruleIndex points at ruleId");
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        let kind = r["kind"].as_str().expect("kind");
        let level = r["level"].as_str().expect("level");
        assert!([
            "notApplicable",
            "pass",
            "fail",
            "review",
            "open",
            "informational"
        ]
        .contains(&kind));
        assert!(["none", "note", "warning", "error"].contains(&level));
        // SARIF §3.27.9: a result that is not a failure has level none
        if kind != "fail" {
            assert_eq!(level, "none");
        }
        for loc in r["locations"].as_array().expect("locations") {
            assert!(loc["physicalLocation"]["artifactLocation"]["uri"].is_string());
        }
    }
    let by_id = |id: &str| results.iter().find(|r| r["ruleId"] == id).expect("result");
    // true waste 1000 of 8000 bytes = 12.5% > 10%; its culprit is /a
    assert_eq!(by_id("max-true-waste")["kind"], "fail");
    assert_eq!(
        by_id("max-true-waste")["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "/a"
    );
    assert_eq!(by_id("highest-wasted-bytes")["kind"], "notApplicable");
}

#[test]
fn json_report_round_trips_through_serde() {
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 3000, 3000));
    let base = write(dir.path(), "b.tar", &one_file(10));
    let (_, report, _) = ci_json(
        dir.path(),
        &img,
        &[
            "--max-true-waste",
            "5%",
            "--max-growth",
            "1kB",
            "--baseline",
            base.to_str().expect("utf-8"),
            "--forbidden-leftovers",
            "vcs",
        ],
    );
    let report = report.expect("report parses into CiReport");
    let again: CiReport =
        serde_json::from_str(&serde_json::to_string(&report).expect("serialize")).expect("parse");
    assert_eq!(again, report);
    // hand-computed (see dive_image): efficiency 7000/8000, wasted 2000, user wasted 2000/4000,
    // true waste 1000, size 8000; growth 8000 - 10 = 7990 bytes
    let m = &report.evaluation.measures;
    assert_eq!(
        (
            m.efficiency,
            m.wasted_bytes,
            m.user_wasted_percent,
            m.true_waste_bytes,
            m.size_bytes
        ),
        (0.875, 2000, Some(0.5), 1000, 8000)
    );
    let growth = report
        .evaluation
        .results
        .iter()
        .find(|r| r.rule == CiRule::MaxGrowth)
        .expect("growth");
    assert_eq!(growth.measured, Some(ci_rules::Quantity::DeltaBytes(7990)));
    assert_eq!(
        report.summary.pass + report.summary.fail + report.summary.skip,
        12
    );
}

#[test]
fn github_annotations() {
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 3000, 3000));
    let o = run(
        &[
            img.to_str().expect("utf-8"),
            "--ci",
            "--ci-format",
            "github",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    // every line is one workflow command
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("::error ") || l.starts_with("::notice ")),
        "{out}"
    );
    assert!(lines.contains(&"::error title=bathy ci%3A lowest-efficiency::image efficiency is too low (efficiency=0.875 < threshold=0.9) (threshold 0.9, measured 0.875)%0A/a (2000 bytes, 2 copies)"), "{out}");
    assert_eq!(
        lines.last(),
        Some(&"::notice title=bathy ci::FAIL for ci:test [pass:1 fail:2 skip:9]")
    );
}

/// The real dive 0.13.1, when installed, gives the same verdicts on the same config.
#[test]
fn same_verdicts_as_real_dive() {
    if !require_tool(&DIVE) {
        return;
    }
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 3000, 3000));
    // efficiency 0.875, wasted 2000, user wasted 0.5: at, below and past each threshold
    let configs = [
        "rules:\n  lowestEfficiency: 0.875\n  highestWastedBytes: 2kB\n  highestUserWastedPercent: 0.5\n",
        "rules:\n  lowestEfficiency: 0.876\n  highestWastedBytes: 1999\n  highestUserWastedPercent: 0.49\n",
        "rules:\n  lowestEfficiency: 0.8\n  highestWastedBytes: disabled\n",
    ];
    for text in configs {
        std::fs::write(dir.path().join(".dive-ci"), text).expect("write config");
        let d = std::process::Command::new("dive")
            .args(["--source", "docker-archive", img.to_str().expect("utf-8")])
            .current_dir(dir.path())
            .env("CI", "true")
            .output()
            .expect("run dive");
        let dive_out = String::from_utf8_lossy(&d.stdout).to_string();
        let (code, report, _) = ci_json(dir.path(), &img, &[]);
        let report = report.expect("report");
        for (rule, dive_name) in [
            (CiRule::LowestEfficiency, "lowestEfficiency"),
            (CiRule::HighestWastedBytes, "highestWastedBytes"),
            (CiRule::HighestUserWastedPercent, "highestUserWastedPercent"),
        ] {
            let line = dive_out
                .lines()
                .find(|l| l.contains(&format!(": {dive_name}")))
                .unwrap_or_else(|| panic!("dive said: {dive_out}"));
            let dive_status = if line.contains("PASS") {
                Status::Pass
            } else if line.contains("FAIL") {
                Status::Fail
            } else {
                Status::Skip
            };
            assert_eq!(
                status_of(&report, rule),
                dive_status,
                "{text}: dive: {line}"
            );
        }
        assert_eq!(code == 0, d.status.success(), "{text}: exit status");
    }
}

#[test]
fn fixture_images_load_for_analysis() {
    // guards the test helper's assumptions above: sizes as computed by hand
    let dir = tmp();
    let (image, a): (_, Analysis) = analyse(dir.path(), &dive_image(1000, 1000, 3000, 3000));
    assert_eq!(image.size_bytes(), 8000);
    assert_eq!(a.dive.user_size_bytes, 4000);
    let (image, _) = analyse(dir.path(), &one_file(512));
    assert_eq!(image.compressed_bytes(), 2048);
}

/// Colors on a terminal (through `script`, which gives the command a pseudo-terminal), none
/// with NO_COLOR.
#[test]
fn colors_on_a_terminal_unless_no_color() {
    if !require_tool(&SCRIPT) {
        return;
    }
    let dir = tmp();
    let img = write(dir.path(), "i.tar", &dive_image(1000, 1000, 3000, 3000));
    let cmd = format!("{} {} --ci", env!("CARGO_BIN_EXE_bathy"), img.display());
    let on_tty = |no_color: Option<&str>| {
        let mut c = std::process::Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"])
            .current_dir(dir.path())
            .env_remove("CI")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let o = c.output().expect("run script");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
        )
    };
    // efficiency 0.875 < 0.9: a red FAIL
    let (code, out) = on_tty(None);
    assert_eq!(code, Some(1));
    assert!(out.contains("\x1b[1;31mFAIL"), "{out:?}");
    let (code, out) = on_tty(Some("1"));
    assert_eq!(code, Some(1));
    assert!(
        !out.contains("\x1b[1;31m") && !out.contains("\x1b[32m") && out.contains("FAIL"),
        "{out:?}"
    );
}
