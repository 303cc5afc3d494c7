//! CI rules (not the leftover rules of `leftovers`): thresholds over an analysed image, or over
//! a comparison of two, evaluated to PASS/FAIL/SKIP with the paths or layers behind each failure.
//! One gate for `bathy IMAGE --ci` and `bathy compare A B --ci`. Pure: no config files, no I/O,
//! no report formatting here.
//!
//! dive's three rules keep dive's semantics exactly (strict comparisons, NaN user-wasted percent
//! passes); ours follow the same convention: a rule fails only when the measure is *past* its
//! threshold, so a value exactly at the threshold passes.

use crate::analysis::compare::Comparison;
use crate::analysis::findings::{presence, Check, Finding, Presence};
use crate::analysis::fsview::FinalFs;
use crate::analysis::leftovers::{glob_to_regex, Category, Leftover};
use crate::analysis::Analysis;
use crate::image::{EntryKind, Image};
use crate::paths::{NodeId, ROOT};
use crate::text_fit::truncate;
use crate::units::{human_bytes, parse_limit, percent, round4};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::units::Limit;

/// How many paths or layers a failure lists.
pub const TOP_CULPRITS: usize = 5;
/// How many paths a failed path rule lists: each is a thing to fix, but a glob such as
/// `/usr/share/doc/**` can match thousands (the message gives the count).
pub const MAX_PATH_CULPRITS: usize = 50;

/// Every CI rule, in evaluation and report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiRule {
    LowestEfficiency,
    HighestWastedBytes,
    HighestUserWastedPercent,
    MaxTrueWaste,
    MaxImageSize,
    MaxCompressedSize,
    MaxLeftoverBytes,
    ForbiddenLeftovers,
    ForbiddenFindings,
    ForbidPaths,
    ForbidPathsAnywhere,
    MaxGrowth,
    NoNewLeftovers,
}

/// Which command a gate judges: one image (`bathy IMAGE --ci`, against an optional baseline) or
/// a comparison (`bathy compare A B --ci`, B against A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Image,
    Compare,
}

impl Gate {
    /// The rules this gate evaluates, in report order.
    pub fn rules(self) -> impl Iterator<Item = &'static CiRuleInfo> {
        CI_RULES.iter().filter(move |r| r.gates.contains(&self))
    }
}

const IMAGE: &[Gate] = &[Gate::Image];
const BOTH: &[Gate] = &[Gate::Image, Gate::Compare];

/// What a rule is called and what it checks, as data for every report format.
pub struct CiRuleInfo {
    pub id: CiRule,
    /// The key in `.dive-ci` under `rules:` and in reports.
    pub key: &'static str,
    /// dive's camelCase name (config key and flag), for dive's own rules.
    pub dive_name: Option<&'static str>,
    /// The gates that evaluate it.
    pub gates: &'static [Gate],
    pub summary: &'static str,
}

pub const CI_RULES: [CiRuleInfo; 13] = [
    CiRuleInfo {
        id: CiRule::LowestEfficiency,
        key: "lowest-efficiency",
        dive_name: Some("lowestEfficiency"),
        gates: IMAGE,
        summary: "dive's efficiency score (0-1) must not be below the threshold",
    },
    CiRuleInfo {
        id: CiRule::HighestWastedBytes,
        key: "highest-wasted-bytes",
        dive_name: Some("highestWastedBytes"),
        gates: IMAGE,
        summary: "dive's wasted bytes (all copies of paths written more than once) must not exceed the threshold",
    },
    CiRuleInfo {
        id: CiRule::HighestUserWastedPercent,
        key: "highest-user-wasted-percent",
        dive_name: Some("highestUserWastedPercent"),
        gates: IMAGE,
        summary: "dive's wasted bytes over the bytes of all layers but the first (0-1) must not exceed the threshold",
    },
    CiRuleInfo {
        id: CiRule::MaxTrueWaste,
        key: "max-true-waste",
        dive_name: None,
        gates: IMAGE,
        summary: "bytes shipped in some layer but invisible in the final filesystem must not exceed the threshold (bytes, or % of the image size)",
    },
    CiRuleInfo {
        id: CiRule::MaxImageSize,
        key: "max-image-size",
        dive_name: None,
        gates: IMAGE,
        summary: "the uncompressed image size must not exceed the threshold",
    },
    CiRuleInfo {
        id: CiRule::MaxCompressedSize,
        key: "max-compressed-size",
        dive_name: None,
        gates: IMAGE,
        summary: "the compressed size of the layers must not exceed the threshold",
    },
    CiRuleInfo {
        id: CiRule::MaxLeftoverBytes,
        key: "max-leftover-bytes",
        dive_name: None,
        gates: IMAGE,
        summary: "build-tool leftovers (compilers, caches, dev files, ...) must not exceed the threshold",
    },
    CiRuleInfo {
        id: CiRule::ForbiddenLeftovers,
        key: "forbidden-leftovers",
        dive_name: None,
        gates: IMAGE,
        summary: "the listed leftover categories must not appear at all",
    },
    CiRuleInfo {
        id: CiRule::ForbiddenFindings,
        key: "forbidden-findings",
        dive_name: None,
        gates: IMAGE,
        summary: "the listed security checks (secret, root-user, setuid, world-writable, unknown-owner) must find nothing",
    },
    CiRuleInfo {
        id: CiRule::ForbidPaths,
        key: "forbid-paths",
        dive_name: None,
        gates: IMAGE,
        summary: "no path of the final filesystem may match the listed globs",
    },
    CiRuleInfo {
        id: CiRule::ForbidPathsAnywhere,
        key: "forbid-paths-anywhere",
        dive_name: None,
        gates: IMAGE,
        summary: "no path in any layer (deleted later or not) may match the listed globs",
    },
    CiRuleInfo {
        id: CiRule::MaxGrowth,
        key: "max-growth",
        dive_name: None,
        gates: BOTH,
        summary: "the image must not grow past the baseline image by more than the threshold (bytes, or % of the baseline)",
    },
    CiRuleInfo {
        id: CiRule::NoNewLeftovers,
        key: "no-new-leftovers",
        dive_name: None,
        gates: &[Gate::Compare],
        summary: "B must not have build-tool leftovers that A does not have (same category, path and owning package)",
    },
];

impl CiRule {
    pub fn info(self) -> &'static CiRuleInfo {
        // CI_RULES is in CiRule order
        &CI_RULES[self as usize]
    }
    pub fn key(self) -> &'static str {
        self.info().key
    }
}

/// A configured threshold and the text it was written as (shown in reports).
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold<T> {
    pub value: T,
    pub text: String,
}

impl<T> Threshold<T> {
    pub fn new(value: T, text: impl Into<String>) -> Self {
        Threshold {
            value,
            text: text.into(),
        }
    }
}

/// A limit flag (`--max-growth 5%`) read by the one size grammar, keeping the text as written.
impl std::str::FromStr for Threshold<Limit> {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_limit(s).map(|v| Threshold::new(v, s))
    }
}

/// Globs over the image's absolute paths (`/var/cache/debconf/**`, `**/.env`), compiled into one
/// set; kept as written for reports. `*` and `?` stay within a name, `**` spans directories,
/// `{a,b}` is either; a trailing `/**` matches what is below the directory, not the directory.
#[derive(Clone, Debug, Default)]
pub struct PathGlobs {
    globs: Vec<String>,
    set: Option<regex::RegexSet>,
}

impl PartialEq for PathGlobs {
    fn eq(&self, other: &Self) -> bool {
        self.globs == other.globs
    }
}

/// Room for many globs, but not for a config that tries to exhaust memory.
const GLOB_SET_LIMIT: usize = 64 << 20;
/// No path is longer (Linux's PATH_MAX), so no useful glob is either.
const GLOB_MAX_LEN: usize = 4096;

impl PathGlobs {
    /// Compile `globs`; a glob that is not absolute (paths in an image all start with `/`, so
    /// it could never match) or does not compile is an error naming it.
    pub fn new(globs: Vec<String>) -> Result<PathGlobs, String> {
        let mut sources = Vec::with_capacity(globs.len());
        for g in &globs {
            if g.len() > GLOB_MAX_LEN {
                return Err(format!(
                    "a glob of {} bytes (at most {GLOB_MAX_LEN}: no path is longer)",
                    g.len()
                ));
            }
            if !(g.starts_with('/') || g.starts_with("**")) {
                return Err(format!(
                    "glob {} must start with / or ** (paths in an image are absolute: /app/.env, **/.env)",
                    crate::text_fit::quoted(g)
                ));
            }
            let src = format!("^{}$", glob_to_regex(g));
            regex::RegexBuilder::new(&src)
                .size_limit(GLOB_SET_LIMIT)
                .build()
                .map_err(|_| {
                    format!(
                        "glob {} does not compile (an unclosed {{ or too large)",
                        crate::text_fit::quoted(g)
                    )
                })?;
            sources.push(src);
        }
        let set = if sources.is_empty() {
            None
        } else {
            Some(
                regex::RegexSetBuilder::new(&sources)
                    .size_limit(GLOB_SET_LIMIT)
                    .dfa_size_limit(GLOB_SET_LIMIT)
                    .build()
                    .map_err(|_| "the globs together are too large to compile".to_string())?,
            )
        };
        Ok(PathGlobs { globs, set })
    }

    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// The globs as written.
    pub fn globs(&self) -> &[String] {
        &self.globs
    }

    /// The first glob (in the order written) that matches `path`.
    pub fn first_match(&self, path: &str) -> Option<&str> {
        let set = self.set.as_ref()?;
        let i = set.matches(path).into_iter().next()?;
        self.globs.get(i).map(String::as_str)
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.set.as_ref().is_some_and(|s| s.is_match(path))
    }
}

/// The validated thresholds of every CI rule; `None` (or empty, or false) is a disabled rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CiThresholds {
    pub lowest_efficiency: Option<Threshold<f64>>,
    pub highest_wasted_bytes: Option<Threshold<u64>>,
    pub highest_user_wasted_percent: Option<Threshold<f64>>,
    pub max_true_waste: Option<Threshold<Limit>>,
    pub max_image_size: Option<Threshold<u64>>,
    pub max_compressed_size: Option<Threshold<u64>>,
    pub max_leftover_bytes: Option<Threshold<u64>>,
    /// Empty: disabled.
    pub forbidden_leftovers: Vec<Category>,
    /// Security checks that must find nothing (empty: disabled).
    pub forbidden_findings: Vec<Check>,
    pub max_growth: Option<Threshold<Limit>>,
    /// Compare only: no leftover finding in B that A does not have.
    pub no_new_leftovers: bool,
    /// Paths whose bytes the waste and leftover rules do not count.
    pub ignore_paths: PathGlobs,
    /// Paths that must not be in the final filesystem (empty: the rule is off).
    pub forbid_paths: PathGlobs,
    /// Paths that must not be in any layer (empty: the rule is off).
    pub forbid_paths_anywhere: PathGlobs,
}

/// Leftovers by category, from
/// [`crate::analysis::why::WhyReport::leftover_summary`]; the CI rules need only totals and the
/// largest paths.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeftoverSummary {
    pub categories: BTreeMap<Category, LeftoverCategory>,
    /// Leftover bytes under `ignore-paths`, left out of `categories`.
    pub ignored_bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeftoverCategory {
    pub bytes: u64,
    /// Largest first: (path, bytes, layer).
    pub paths: Vec<(String, u64, usize)>,
}

impl LeftoverSummary {
    pub fn total_bytes(&self) -> u64 {
        self.categories.values().map(|c| c.bytes).sum()
    }

    /// The leftover findings by category, without the files under `ignore` (a finding whose
    /// files are all ignored is left out; the others count their remaining bytes).
    pub fn of(leftovers: &[Leftover], fs: &FinalFs, ignore: &PathGlobs) -> LeftoverSummary {
        let mut s = LeftoverSummary::default();
        for l in leftovers {
            let mut bytes = l.bytes;
            if !ignore.is_empty() {
                let ignored: Vec<NodeId> = l
                    .nodes
                    .iter()
                    .copied()
                    .filter(|&n| ignore.is_match(&fs.image.paths.path(n)))
                    .collect();
                if !l.nodes.is_empty() && ignored.len() == l.nodes.len() {
                    s.ignored_bytes += l.bytes;
                    continue;
                }
                let off: u64 = ignored.iter().map(|&n| fs.file_bytes(n)).sum();
                bytes = bytes.saturating_sub(off);
                s.ignored_bytes += off;
            }
            let c = s.categories.entry(l.category).or_default();
            c.bytes += bytes;
            // findings matched by package often share a directory (`/usr`): name the package
            let name = match &l.package {
                Some(p) => format!("{} (package {p})", l.path),
                None => l.path.clone(),
            };
            c.paths.push((name, bytes, l.layer.unwrap_or(0)));
        }
        for c in s.categories.values_mut() {
            c.paths
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        s
    }
}

/// What the growth rule needs from the baseline image.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub name: String,
    pub size_bytes: u64,
    pub diff_ids: Vec<String>,
    /// Its headline numbers, when it was analysed (`bathy IMAGE --ci --baseline`), for the
    /// deltas of the summary.
    pub measures: Option<Measures>,
}

impl Baseline {
    pub fn of(image: &Image) -> Baseline {
        Baseline {
            name: image.display_name(),
            size_bytes: image.size_bytes(),
            diff_ids: image.layers.iter().map(|l| l.diff_id.clone()).collect(),
            measures: None,
        }
    }

    /// The baseline with its headline numbers.
    pub fn measured(image: &Image, analysis: &Analysis) -> Baseline {
        Baseline {
            measures: Some(Measures::of(image, analysis)),
            ..Baseline::of(image)
        }
    }
}

/// Everything the rules look at.
pub struct CiInput<'a> {
    pub image: &'a Image,
    pub analysis: &'a Analysis,
    /// `None` when the leftover analysis was not run (a library caller's choice): its rules then
    /// SKIP. `bathy --ci` always runs it.
    pub leftovers: Option<&'a LeftoverSummary>,
    /// The security findings (`analysis::findings`); `None`: not computed, its rule SKIPs.
    pub findings: Option<&'a [Finding]>,
    pub baseline: Option<&'a Baseline>,
    /// With `bathy compare A B --ci`: A compared with this image (B); A is then the baseline.
    /// Its presence picks the compare gate.
    pub comparison: Option<&'a Comparison>,
}

impl CiInput<'_> {
    pub fn gate(&self) -> Gate {
        if self.comparison.is_some() {
            Gate::Compare
        } else {
            Gate::Image
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// A number a rule compares, with its unit, so machine formats keep it exact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "value", rename_all = "kebab-case")]
pub enum Quantity {
    /// 0-1.
    Ratio(f64),
    /// A fraction of a reference size (0.05), configured and shown as a percentage (`5%`).
    Fraction(f64),
    Bytes(u64),
    /// A size change, negative when the image shrank.
    DeltaBytes(i64),
    Categories(Vec<Category>),
    /// How many findings.
    Count(u64),
}

impl Quantity {
    /// For people: `0.9844`, `32 kB (32025 B)`, `5.0%`.
    pub fn display(&self) -> String {
        match self {
            Quantity::Ratio(r) => format!("{}", round4(*r)),
            Quantity::Fraction(f) => percent(*f),
            Quantity::Bytes(b) => bytes_text(*b),
            Quantity::DeltaBytes(d) => {
                if *d >= 0 {
                    format!("+{}", bytes_text(*d as u64))
                } else {
                    format!("-{}", bytes_text(d.unsigned_abs()))
                }
            }
            Quantity::Categories(c) if c.is_empty() => "none".to_string(),
            Quantity::Categories(c) => join_categories(c, ", "),
            Quantity::Count(n) => n.to_string(),
        }
    }
}

fn join_categories(c: &[Category], sep: &str) -> String {
    c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(sep)
}

fn bytes_text(b: u64) -> String {
    if b < 1000 {
        format!("{b} B")
    } else {
        format!("{} ({b} B)", human_bytes(b))
    }
}

/// What made a rule fail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Culprit {
    pub kind: CulpritKind,
    /// A path (`/root/saved.txt`) or a layer (`layer 3`).
    pub name: String,
    pub bytes: u64,
    /// The layer it sits in, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layer: Option<usize>,
    /// Copies, layers, or the layer's command.
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CulpritKind {
    Path,
    Layer,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CiRuleResult {
    pub rule: CiRule,
    pub status: Status,
    /// The threshold as configured (`20MB`, `0.9`, `5%`); `None` when the rule is disabled.
    pub configured: Option<String>,
    pub threshold: Option<Quantity>,
    pub measured: Option<Quantity>,
    /// Why it failed or was skipped; empty on a pass.
    pub message: String,
    /// For a failure, the largest paths or layers behind it.
    #[serde(default)]
    pub culprits: Vec<Culprit>,
}

/// dive's headline numbers plus ours, shown above the rule results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measures {
    pub efficiency: f64,
    pub wasted_bytes: u64,
    /// `None` when the user layers hold no bytes (dive's NaN).
    pub user_wasted_percent: Option<f64>,
    pub true_waste_bytes: u64,
    pub size_bytes: u64,
    pub compressed_bytes: u64,
}

impl Measures {
    pub fn of(image: &Image, analysis: &Analysis) -> Measures {
        let d = &analysis.dive;
        Measures {
            efficiency: d.efficiency,
            wasted_bytes: d.wasted_bytes,
            user_wasted_percent: d.user_wasted_percent,
            true_waste_bytes: analysis.waste.wasted_bytes,
            size_bytes: d.size_bytes,
            compressed_bytes: image.compressed_bytes(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    pub image: String,
    pub pass: bool,
    pub measures: Measures,
    /// With `--baseline`: the baseline's own headline numbers, for deltas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineMeasures>,
    pub results: Vec<CiRuleResult>,
}

/// The baseline image's name and headline numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineMeasures {
    pub image: String,
    pub measures: Measures,
}

impl Evaluation {
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// Evaluate every rule of the input's gate: every rule of `cfg` on one image, or the compare
/// rules on a comparison (the others are not listed at all).
pub fn evaluate(cfg: &CiThresholds, input: &CiInput) -> Evaluation {
    let ctx = Ctx {
        cfg,
        input,
        waste: Waste::of(cfg, input),
    };
    let results: Vec<CiRuleResult> = input
        .gate()
        .rules()
        .map(|r| evaluate_rule(r.id, &ctx).unwrap_or_else(|| disabled(r.id)))
        .collect();
    let pass = results.iter().all(|r| r.status != Status::Fail);
    Evaluation {
        image: input.image.display_name(),
        pass,
        measures: Measures::of(input.image, input.analysis),
        baseline: input.baseline.and_then(|b| {
            b.measures.clone().map(|measures| BaselineMeasures {
                image: b.name.clone(),
                measures,
            })
        }),
        results,
    }
}

/// The compare gate: B against A, through the same rules as one image against a baseline.
pub fn evaluate_comparison(
    cfg: &CiThresholds,
    a: &Image,
    b: &Image,
    b_analysis: &Analysis,
    comparison: &Comparison,
) -> Evaluation {
    let baseline = Baseline::of(a);
    evaluate(
        cfg,
        &CiInput {
            image: b,
            analysis: b_analysis,
            leftovers: None,
            findings: None,
            baseline: Some(&baseline),
            comparison: Some(comparison),
        },
    )
}

/// What every rule reads: its settings, the input, and the waste measures with `ignore-paths`
/// taken out (computed once).
struct Ctx<'a> {
    cfg: &'a CiThresholds,
    input: &'a CiInput<'a>,
    waste: Waste,
}

/// dive's numbers and the true waste as the waste rules see them: the copies of paths under
/// `ignore-paths` count as needed (never as waste), so ignoring a path can only help a rule.
struct Waste {
    efficiency: f64,
    wasted_bytes: u64,
    user_wasted_percent: Option<f64>,
    /// dive's inefficient files, minus the ignored ones.
    inefficient: Vec<crate::analysis::dive::InefficientFile>,
    true_waste_bytes: u64,
    /// The wasted paths (largest first), minus the ignored ones.
    wasted_paths: Vec<crate::analysis::waste::WastedPath>,
    /// What was left out: dive's wasted bytes, true waste bytes.
    ignored_dive: u64,
    ignored_true: u64,
}

impl Waste {
    fn of(cfg: &CiThresholds, input: &CiInput) -> Waste {
        let d = &input.analysis.dive;
        let ignore = &cfg.ignore_paths;
        let (ignored, inefficient): (Vec<_>, Vec<_>) = d
            .inefficient_files
            .iter()
            .cloned()
            .partition(|f| ignore.is_match(&f.path));
        let ignored_dive: u64 = ignored.iter().map(|f| f.cumulative_bytes).sum();
        let efficiency = if ignored.is_empty() || d.counted_bytes == 0 {
            d.efficiency
        } else {
            // every ignored copy becomes needed: Σ min grows by Σ (cumulative - min)
            let spread: u64 = ignored
                .iter()
                .map(|f| f.cumulative_bytes.saturating_sub(f.min_bytes))
                .sum();
            (d.needed_bytes + spread) as f64 / d.counted_bytes as f64
        };
        let wasted_bytes = d.wasted_bytes.saturating_sub(ignored_dive);
        let user_wasted_percent = d.user_wasted_percent.map(|p| {
            if ignored_dive == 0 {
                p
            } else {
                wasted_bytes as f64 / d.user_size_bytes as f64
            }
        });
        let (ignored_paths, wasted_paths): (Vec<_>, Vec<_>) = input
            .analysis
            .waste
            .wasted_paths(input.image)
            .into_iter()
            .partition(|p| ignore.is_match(&p.path));
        let ignored_true: u64 = ignored_paths.iter().map(|p| p.bytes).sum();
        Waste {
            efficiency,
            wasted_bytes,
            user_wasted_percent,
            inefficient,
            true_waste_bytes: input
                .analysis
                .waste
                .wasted_bytes
                .saturating_sub(ignored_true),
            wasted_paths,
            ignored_dive,
            ignored_true,
        }
    }
}

/// A rule's result, or `None` when it is disabled.
fn evaluate_rule(rule: CiRule, ctx: &Ctx) -> Option<CiRuleResult> {
    let cfg = ctx.cfg;
    match rule {
        CiRule::LowestEfficiency => lowest_efficiency(ctx),
        CiRule::HighestWastedBytes => highest_wasted_bytes(ctx),
        CiRule::HighestUserWastedPercent => highest_user_wasted_percent(ctx),
        CiRule::MaxTrueWaste => max_true_waste(ctx),
        CiRule::MaxImageSize => max_size(rule, cfg.max_image_size.as_ref()?, ctx.input),
        CiRule::MaxCompressedSize => max_size(rule, cfg.max_compressed_size.as_ref()?, ctx.input),
        CiRule::MaxLeftoverBytes => max_leftover_bytes(ctx),
        CiRule::ForbiddenLeftovers => forbidden_leftovers(ctx),
        CiRule::ForbiddenFindings => forbidden_findings(ctx),
        CiRule::ForbidPaths => forbid_paths(&cfg.forbid_paths, ctx.input, false),
        CiRule::ForbidPathsAnywhere => forbid_paths(&cfg.forbid_paths_anywhere, ctx.input, true),
        CiRule::MaxGrowth => max_growth(ctx),
        CiRule::NoNewLeftovers => no_new_leftovers(ctx),
    }
}

fn disabled(rule: CiRule) -> CiRuleResult {
    CiRuleResult {
        rule,
        status: Status::Skip,
        configured: None,
        threshold: None,
        measured: None,
        message: "rule disabled".to_string(),
        culprits: Vec::new(),
    }
}

/// The verdict of a configured rule that measured something: it fails with the message
/// `failed`, naming the `culprits` (only computed for a failure).
fn judge(
    rule: CiRule,
    configured: &str,
    threshold: Quantity,
    measured: Quantity,
    failed: Option<String>,
    culprits: impl FnOnce() -> Vec<Culprit>,
) -> CiRuleResult {
    let (status, message, culprits) = match failed {
        Some(m) => (Status::Fail, m, culprits()),
        None => (Status::Pass, String::new(), Vec::new()),
    };
    CiRuleResult {
        rule,
        status,
        configured: Some(configured.to_string()),
        threshold: Some(threshold),
        measured: Some(measured),
        message,
        culprits,
    }
}

fn skipped(rule: CiRule, configured: &str, threshold: Quantity, why: &str) -> CiRuleResult {
    CiRuleResult {
        rule,
        status: Status::Skip,
        configured: Some(configured.to_string()),
        threshold: Some(threshold),
        measured: None,
        message: why.to_string(),
        culprits: Vec::new(),
    }
}

/// Says what `ignore-paths` left out of a rule's measure, after its own message (a pass gets
/// the note alone).
fn note_ignored(mut r: CiRuleResult, bytes: u64) -> CiRuleResult {
    if bytes > 0 {
        let note = format!("ignore-paths left out {bytes} bytes");
        r.message = if r.message.is_empty() {
            note
        } else {
            format!("{}; {note}", r.message)
        };
    }
    r
}

/// dive's inefficient files, largest first: what its three rules are about.
fn dive_culprits(waste: &Waste) -> Vec<Culprit> {
    waste
        .inefficient
        .iter()
        .take(TOP_CULPRITS)
        .map(|f| Culprit {
            kind: CulpritKind::Path,
            name: f.path.clone(),
            bytes: f.cumulative_bytes,
            layer: None,
            detail: format!("{} copies", f.count),
        })
        .collect()
}

fn lowest_efficiency(ctx: &Ctx) -> Option<CiRuleResult> {
    let t = ctx.cfg.lowest_efficiency.as_ref()?;
    let eff = ctx.waste.efficiency;
    // dive: `if threshold > efficiency { fail }`
    let failed = (t.value > eff).then(|| {
        format!(
            "image efficiency is too low (efficiency={eff} < threshold={})",
            t.value
        )
    });
    dive_rule(
        ctx,
        CiRule::LowestEfficiency,
        (&t.text, Quantity::Ratio(t.value)),
        Quantity::Ratio(eff),
        failed,
    )
}

/// The verdict of one of dive's rules: its culprits are dive's inefficient files, and its
/// measure leaves out what `ignore-paths` ignores.
fn dive_rule(
    ctx: &Ctx,
    rule: CiRule,
    (configured, threshold): (&str, Quantity),
    measured: Quantity,
    failed: Option<String>,
) -> Option<CiRuleResult> {
    let r = judge(rule, configured, threshold, measured, failed, || {
        dive_culprits(&ctx.waste)
    });
    Some(note_ignored(r, ctx.waste.ignored_dive))
}

fn highest_wasted_bytes(ctx: &Ctx) -> Option<CiRuleResult> {
    let t = ctx.cfg.highest_wasted_bytes.as_ref()?;
    let wasted = ctx.waste.wasted_bytes;
    let failed = (wasted > t.value).then(|| {
        format!(
            "too many bytes wasted (wasted-bytes={wasted} > threshold={})",
            t.value
        )
    });
    dive_rule(
        ctx,
        CiRule::HighestWastedBytes,
        (&t.text, Quantity::Bytes(t.value)),
        Quantity::Bytes(wasted),
        failed,
    )
}

fn highest_user_wasted_percent(ctx: &Ctx) -> Option<CiRuleResult> {
    let rule = CiRule::HighestUserWastedPercent;
    let t = ctx.cfg.highest_user_wasted_percent.as_ref()?;
    // dive compares NaN (no user bytes) with `>`, which is false: the rule passes
    let Some(pct) = ctx.waste.user_wasted_percent else {
        let mut r = judge(
            rule,
            &t.text,
            Quantity::Ratio(t.value),
            Quantity::Ratio(0.0),
            None,
            Vec::new,
        );
        r.measured = None;
        r.message = "no bytes in user layers: nothing to compare (passes, as in dive)".to_string();
        return Some(r);
    };
    let failed = (pct > t.value).then(|| {
        format!("too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes={pct} > threshold={})", t.value)
    });
    dive_rule(
        ctx,
        rule,
        (&t.text, Quantity::Ratio(t.value)),
        Quantity::Ratio(pct),
        failed,
    )
}

/// `part` of `whole` as a fraction; some of nothing is as large as a finite number gets (finite,
/// so that JSON can carry it).
fn fraction(part: f64, whole: u64) -> f64 {
    if whole == 0 {
        if part > 0.0 {
            f64::MAX
        } else {
            0.0
        }
    } else {
        part / whole as f64
    }
}

/// A limit's threshold as a quantity: bytes, or a fraction of some reference size.
fn limit_quantity(l: Limit) -> Quantity {
    match l {
        Limit::Bytes(b) => Quantity::Bytes(b),
        Limit::Fraction(f) => Quantity::Fraction(f),
    }
}

fn max_true_waste(ctx: &Ctx) -> Option<CiRuleResult> {
    let t = ctx.cfg.max_true_waste.as_ref()?;
    let wasted = ctx.waste.true_waste_bytes;
    let size = ctx.input.analysis.dive.size_bytes;
    let (measured, failed) = match t.value {
        Limit::Bytes(max) => (
            Quantity::Bytes(wasted),
            (wasted > max).then(|| format!("{wasted} bytes are shipped but invisible in the final filesystem (> {max} allowed)")),
        ),
        Limit::Fraction(max) => {
            let f = fraction(wasted as f64, size);
            let failed = (f > max).then(|| {
                format!(
                    "{} of the image ({wasted} of {size} bytes) is shipped but invisible in the final filesystem (> {} allowed)",
                    percent(f),
                    percent(max)
                )
            });
            (Quantity::Fraction(f), failed)
        }
    };
    let r = judge(
        CiRule::MaxTrueWaste,
        &t.text,
        limit_quantity(t.value),
        measured,
        failed,
        || {
            ctx.waste
                .wasted_paths
                .iter()
                .take(TOP_CULPRITS)
                .map(|p| {
                    let layers: Vec<String> = p.layers.iter().map(|l| l.to_string()).collect();
                    Culprit {
                        kind: CulpritKind::Path,
                        name: p.path.clone(),
                        bytes: p.bytes,
                        layer: p.layers.first().copied(),
                        detail: format!("layer {}", layers.join(", ")),
                    }
                })
                .collect()
        },
    );
    Some(note_ignored(r, ctx.waste.ignored_true))
}

fn layer_culprits<'a>(
    layers: impl Iterator<Item = &'a crate::image::Layer>,
    bytes: impl Fn(&crate::image::Layer) -> u64,
) -> Vec<Culprit> {
    let mut v: Vec<Culprit> = layers
        .map(|l| Culprit {
            kind: CulpritKind::Layer,
            name: format!("layer {}", l.index),
            bytes: bytes(l),
            layer: Some(l.index),
            detail: truncate(&l.display_command(), 80),
        })
        .collect();
    // largest first, then in layer order
    v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.layer.cmp(&b.layer)));
    v.truncate(TOP_CULPRITS);
    v
}

fn max_size(rule: CiRule, t: &Threshold<u64>, input: &CiInput) -> Option<CiRuleResult> {
    let compressed = rule == CiRule::MaxCompressedSize;
    let (size, what) = if compressed {
        (
            input.image.compressed_bytes(),
            "the compressed layers total",
        )
    } else {
        (input.analysis.dive.size_bytes, "the image is")
    };
    let failed = (size > t.value).then(|| format!("{what} {size} bytes (> {} allowed)", t.value));
    Some(judge(
        rule,
        &t.text,
        Quantity::Bytes(t.value),
        Quantity::Bytes(size),
        failed,
        || {
            if compressed {
                layer_culprits(input.image.layers.iter(), |l| l.compressed_bytes)
            } else {
                layer_culprits(input.image.layers.iter(), |l| l.size_bytes)
            }
        },
    ))
}

const NO_LEFTOVERS: &str = "leftover analysis unavailable";

fn leftover_culprits(summary: &LeftoverSummary, only: Option<&[Category]>) -> Vec<Culprit> {
    let mut v: Vec<Culprit> = summary
        .categories
        .iter()
        .filter(|(name, _)| only.is_none_or(|o| o.contains(name)))
        .flat_map(|(name, c)| {
            c.paths.iter().map(move |(p, b, l)| Culprit {
                kind: CulpritKind::Path,
                name: p.clone(),
                bytes: *b,
                layer: Some(*l),
                detail: name.as_str().to_string(),
            })
        })
        .collect();
    v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    v.truncate(TOP_CULPRITS);
    v
}

fn max_leftover_bytes(ctx: &Ctx) -> Option<CiRuleResult> {
    let rule = CiRule::MaxLeftoverBytes;
    let t = ctx.cfg.max_leftover_bytes.as_ref()?;
    let Some(summary) = ctx.input.leftovers else {
        return Some(skipped(
            rule,
            &t.text,
            Quantity::Bytes(t.value),
            NO_LEFTOVERS,
        ));
    };
    let total = summary.total_bytes();
    let failed = (total > t.value).then(|| {
        format!(
            "build-tool leftovers take {total} bytes (> {} allowed)",
            t.value
        )
    });
    let r = judge(
        rule,
        &t.text,
        Quantity::Bytes(t.value),
        Quantity::Bytes(total),
        failed,
        || leftover_culprits(summary, None),
    );
    Some(note_ignored(r, summary.ignored_bytes))
}

fn forbidden_leftovers(ctx: &Ctx) -> Option<CiRuleResult> {
    let rule = CiRule::ForbiddenLeftovers;
    let forbidden = &ctx.cfg.forbidden_leftovers;
    if forbidden.is_empty() {
        return None;
    }
    let configured = join_categories(forbidden, ",");
    let threshold = Quantity::Categories(forbidden.clone());
    let Some(summary) = ctx.input.leftovers else {
        return Some(skipped(rule, &configured, threshold, NO_LEFTOVERS));
    };
    let found: Vec<Category> = forbidden
        .iter()
        .filter(|c| {
            summary
                .categories
                .get(*c)
                .is_some_and(|x| x.bytes > 0 || !x.paths.is_empty())
        })
        .copied()
        .collect();
    let failed = (!found.is_empty()).then(|| {
        let parts: Vec<String> = found
            .iter()
            .map(|c| {
                format!(
                    "{} ({} B)",
                    c.as_str(),
                    summary.categories.get(c).map(|x| x.bytes).unwrap_or(0)
                )
            })
            .collect();
        format!("forbidden leftovers found: {}", parts.join(", "))
    });
    let r = judge(
        rule,
        &configured,
        threshold,
        Quantity::Categories(found.clone()),
        failed,
        || leftover_culprits(summary, Some(&found)),
    );
    Some(note_ignored(r, summary.ignored_bytes))
}

/// Every finding of a forbidden check is named (not only the first few): each is a thing to fix.
fn forbidden_findings(ctx: &Ctx) -> Option<CiRuleResult> {
    let rule = CiRule::ForbiddenFindings;
    let forbidden = &ctx.cfg.forbidden_findings;
    if forbidden.is_empty() {
        return None;
    }
    let configured: Vec<&str> = forbidden.iter().map(|c| c.as_str()).collect();
    let configured = configured.join(",");
    let Some(findings) = ctx.input.findings else {
        return Some(skipped(
            rule,
            &configured,
            Quantity::Count(0),
            "security checks unavailable",
        ));
    };
    let found: Vec<&Finding> = findings
        .iter()
        .filter(|f| forbidden.contains(&f.check))
        .collect();
    let failed = (!found.is_empty()).then(|| {
        let mut by_check: Vec<String> = Vec::new();
        for c in forbidden {
            let n = found.iter().filter(|f| f.check == *c).count();
            if n > 0 {
                by_check.push(format!("{} ({n})", c.as_str()));
            }
        }
        format!("forbidden findings: {}", by_check.join(", "))
    });
    Some(judge(
        rule,
        &configured,
        Quantity::Count(0),
        Quantity::Count(found.len() as u64),
        failed,
        || found.iter().map(|f| finding_culprit(f)).collect(),
    ))
}

fn finding_culprit(f: &Finding) -> Culprit {
    let mut detail = f.check.as_str().to_string();
    if let Some(d) = &f.secret {
        detail = format!(
            "{detail} {} (fingerprint {})",
            d.kind.as_str(),
            d.fingerprint
        );
    }
    if f.presence != Presence::Visible {
        detail = format!("{detail}, {}", f.presence.describe());
    }
    if !f.detail.is_empty() {
        detail = format!("{detail}: {}", f.detail);
    }
    Culprit {
        kind: if f.path.is_some() {
            CulpritKind::Path
        } else {
            CulpritKind::Layer
        },
        name: f.path.clone().unwrap_or_else(|| f.instruction.clone()),
        bytes: 0,
        layer: f.layer,
        detail,
    }
}

/// `forbid-paths` (the final filesystem) and `forbid-paths-anywhere` (every entry of every
/// layer, so a file a later layer deleted is still caught: its layer still ships it). Each
/// match is a culprit: the path, the layer that wrote it, the glob, and whether it is visible.
fn forbid_paths(globs: &PathGlobs, input: &CiInput, anywhere: bool) -> Option<CiRuleResult> {
    if globs.is_empty() {
        return None;
    }
    let (rule, place) = if anywhere {
        (CiRule::ForbidPathsAnywhere, "in the layers")
    } else {
        (CiRule::ForbidPaths, "in the final filesystem")
    };
    let found = if anywhere {
        forbidden_in_layers(globs, input)
    } else {
        forbidden_in_final(globs, input)
    };
    let failed = (!found.is_empty()).then(|| {
        let listed = if found.len() > MAX_PATH_CULPRITS {
            format!(" (the first {MAX_PATH_CULPRITS} listed)")
        } else {
            String::new()
        };
        let n = found.len();
        format!(
            "{n} forbidden path{} {place}{listed}",
            if n == 1 { "" } else { "s" }
        )
    });
    Some(judge(
        rule,
        &globs.globs().join(", "),
        Quantity::Count(0),
        Quantity::Count(found.len() as u64),
        failed,
        || found.into_iter().take(MAX_PATH_CULPRITS).collect(),
    ))
}

/// Every present path of the final filesystem matching a glob, in path order.
fn forbidden_in_final(globs: &PathGlobs, input: &CiInput) -> Vec<Culprit> {
    let fs = FinalFs::new(input.image, &input.analysis.merged);
    let paths = &input.image.paths;
    let mut found: Vec<Culprit> = (0..paths.len() as NodeId)
        .filter(|&n| n != ROOT && fs.present(n))
        .filter_map(|n| {
            let path = paths.path(n);
            let glob = globs.first_match(&path)?;
            let layer = fs.entry(n).map(|(l, _)| l);
            // the layer in the detail too: every format shows the detail
            let detail = match layer {
                Some(l) => format!("layer {l}, matches {glob}"),
                None => format!("matches {glob}"),
            };
            Some(Culprit {
                kind: CulpritKind::Path,
                bytes: fs.file_bytes(n),
                layer,
                detail,
                name: path,
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// Every entry of every layer whose path matches a glob (whiteouts are deletions, not paths),
/// in layer then path order, saying whether that copy is still visible.
fn forbidden_in_layers(globs: &PathGlobs, input: &CiInput) -> Vec<Culprit> {
    let image = input.image;
    let mut found = Vec::new();
    for (li, layer) in image.layers.iter().enumerate() {
        let mut here: Vec<Culprit> = Vec::new();
        let mut seen: std::collections::HashSet<NodeId> = Default::default();
        for e in &layer.entries {
            if matches!(e.kind, EntryKind::Whiteout | EntryKind::Opaque) || !seen.insert(e.node) {
                continue;
            }
            let path = image.paths.path(e.node);
            let Some(glob) = globs.first_match(&path) else {
                continue;
            };
            let bytes = if e.kind == EntryKind::File { e.size } else { 0 };
            here.push(Culprit {
                kind: CulpritKind::Path,
                name: path,
                bytes,
                layer: Some(li),
                detail: format!(
                    "layer {li}, matches {glob}, {}",
                    presence(&input.analysis.merged, e.node, li).describe()
                ),
            });
        }
        here.sort_by(|a, b| a.name.cmp(&b.name));
        found.extend(here);
    }
    found
}

fn max_growth(ctx: &Ctx) -> Option<CiRuleResult> {
    let rule = CiRule::MaxGrowth;
    let t = ctx.cfg.max_growth.as_ref()?;
    let input = ctx.input;
    let Some(base) = input.baseline else {
        return Some(skipped(
            rule,
            &t.text,
            limit_quantity(t.value),
            "no baseline image given (--baseline IMAGE)",
        ));
    };
    let size = input.analysis.dive.size_bytes;
    let growth = size as i128 - base.size_bytes as i128;
    let growth = growth.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let (measured, failed) = match t.value {
        Limit::Bytes(max) => {
            let failed = (growth > 0 && growth as u64 > max).then(|| {
                format!(
                    "grew by {growth} bytes over {} ({} → {size} bytes; > {max} allowed)",
                    base.name, base.size_bytes
                )
            });
            (Quantity::DeltaBytes(growth), failed)
        }
        Limit::Fraction(max) => {
            let f = if growth <= 0 {
                growth as f64 / base.size_bytes.max(1) as f64
            } else {
                fraction(growth as f64, base.size_bytes)
            };
            let failed = (f > max).then(|| {
                format!(
                    "grew by {} over {} ({} → {size} bytes; > {} allowed)",
                    percent(f),
                    base.name,
                    base.size_bytes,
                    percent(max)
                )
            });
            (Quantity::Fraction(f), failed)
        }
    };
    Some(judge(
        rule,
        &t.text,
        limit_quantity(t.value),
        measured,
        failed,
        || match input.comparison {
            Some(c) => grown_files(c),
            None => {
                // the layers the baseline does not have are where the growth came from
                let new_layers = input
                    .image
                    .layers
                    .iter()
                    .filter(|l| !base.diff_ids.contains(&l.diff_id));
                layer_culprits(new_layers, |l| l.size_bytes)
            }
        },
    ))
}

/// With a comparison at hand, the files that grew most say more than the new layers.
fn grown_files(c: &Comparison) -> Vec<Culprit> {
    c.files
        .top_files()
        .into_iter()
        .filter(|f| f.delta_bytes > 0)
        .take(TOP_CULPRITS)
        .map(|f| Culprit {
            kind: CulpritKind::Path,
            name: c.files.path(f.node),
            bytes: f.delta_bytes.unsigned_abs(),
            layer: f.b.as_ref().and_then(|b| b.layer),
            detail: "grew".to_string(),
        })
        .collect()
}

fn no_new_leftovers(ctx: &Ctx) -> Option<CiRuleResult> {
    let rule = CiRule::NoNewLeftovers;
    if !ctx.cfg.no_new_leftovers {
        return None;
    }
    let Some(l) = ctx.input.comparison.and_then(|c| c.leftovers.as_ref()) else {
        return Some(skipped(rule, "0", Quantity::Count(0), NO_LEFTOVERS));
    };
    let failed = (!l.new.is_empty()).then(|| {
        format!(
            "{} leftover findings that the baseline does not have ({} bytes)",
            l.new.len(),
            l.new.iter().map(|x| x.bytes).sum::<u64>()
        )
    });
    Some(judge(
        rule,
        "0",
        Quantity::Count(0),
        Quantity::Count(l.new.len() as u64),
        failed,
        || {
            l.new
                .iter()
                .take(TOP_CULPRITS)
                .map(|x| Culprit {
                    kind: CulpritKind::Path,
                    // as the leftover rules of one image name a finding matched by package
                    name: match &x.package {
                        Some(p) => format!("{} (package {p})", x.path),
                        None => x.path.clone(),
                    },
                    bytes: x.bytes,
                    layer: None,
                    detail: x.category.as_str().to_string(),
                })
                .collect()
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_table_is_in_id_order() {
        for (i, r) in CI_RULES.iter().enumerate() {
            assert_eq!(r.id as usize, i, "{}", r.key);
            assert_eq!(r.id.key(), r.key);
        }
    }

    #[test]
    fn quantities_read_well() {
        assert_eq!(Quantity::Ratio(0.984_421_213_418_430_9).display(), "0.9844");
        assert_eq!(Quantity::Bytes(999).display(), "999 B");
        assert_eq!(Quantity::Bytes(32_025).display(), "32.0 kB (32025 B)");
        assert_eq!(Quantity::DeltaBytes(-5).display(), "-5 B");
        assert_eq!(Quantity::Categories(vec![]).display(), "none");
        // 32025 / 1220598 = 0.026237...
        assert_eq!(Quantity::Fraction(0.026_237).display(), "2.6237%");
    }

    #[test]
    fn globs_are_absolute_bounded_and_compile() {
        let g = PathGlobs::new(vec!["**/.env".into(), "/root/.ssh/**".into()]).expect("globs");
        assert_eq!(g.first_match("/app/.env"), Some("**/.env"));
        assert_eq!(g.first_match("/.env"), Some("**/.env"));
        assert_eq!(g.first_match("/root/.ssh/id_rsa"), Some("/root/.ssh/**"));
        // below the directory, not the directory
        assert_eq!(g.first_match("/root/.ssh"), None);
        assert_eq!(g.first_match("/app/.envrc"), None);
        assert!(PathGlobs::new(vec!["app/.env".into()]).is_err());
        assert!(PathGlobs::new(vec!["/a/{b".into()]).is_err());
        let long = format!("/{}", "a".repeat(GLOB_MAX_LEN));
        assert_eq!(
            PathGlobs::new(vec![long]).err().as_deref(),
            Some("a glob of 4097 bytes (at most 4096: no path is longer)")
        );
        assert!(PathGlobs::default().first_match("/x").is_none());
    }

    #[test]
    fn fraction_of_nothing() {
        assert_eq!(fraction(0.0, 0), 0.0);
        assert_eq!(fraction(1.0, 0), f64::MAX);
        // 100 of 1000 is exactly the double nearest 0.1, as `10%` parses to
        assert_eq!(fraction(100.0, 1000), 10.0 / 100.0);
    }
}
