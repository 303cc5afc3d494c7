//! CI rules (not the leftover rules of `leftovers`): thresholds over an analysed image, or over
//! a comparison of two, evaluated to PASS/FAIL/SKIP with the paths or layers behind each failure.
//! One gate for `bathy IMAGE --ci` and `bathy compare A B --ci`. Pure: no config files, no I/O,
//! no report formatting here.
//!
//! dive's three rules keep dive's semantics exactly (strict comparisons, NaN user-wasted percent
//! passes); ours follow the same convention: a rule fails only when the measure is *past* its
//! threshold, so a value exactly at the threshold passes.

use crate::analysis::compare::Comparison;
use crate::analysis::leftovers::Category;
use crate::analysis::Analysis;
use crate::image::Image;
use crate::text_fit::truncate;
use crate::units::{human_bytes, parse_limit, percent, round4};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::units::Limit;

/// How many paths or layers a failure lists.
pub const TOP_CULPRITS: usize = 5;

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

pub const CI_RULES: [CiRuleInfo; 10] = [
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
    pub max_growth: Option<Threshold<Limit>>,
    /// Compare only: no leftover finding in B that A does not have.
    pub no_new_leftovers: bool,
}

/// Leftovers by category, from
/// [`crate::analysis::why::WhyReport::leftover_summary`]; the CI rules need only totals and the
/// largest paths.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeftoverSummary {
    pub categories: BTreeMap<Category, LeftoverCategory>,
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
}

/// What the growth rule needs from the baseline image.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub name: String,
    pub size_bytes: u64,
    pub diff_ids: Vec<String>,
}

impl Baseline {
    pub fn of(image: &Image) -> Baseline {
        Baseline {
            name: image.display_name(),
            size_bytes: image.size_bytes(),
            diff_ids: image.layers.iter().map(|l| l.diff_id.clone()).collect(),
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    pub image: String,
    pub pass: bool,
    pub measures: Measures,
    pub results: Vec<CiRuleResult>,
}

impl Evaluation {
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// Evaluate every rule of the input's gate: every rule of `cfg` on one image, or the compare
/// rules on a comparison (the others are not listed at all).
pub fn evaluate(cfg: &CiThresholds, input: &CiInput) -> Evaluation {
    let d = &input.analysis.dive;
    let image = input.image;
    let measures = Measures {
        efficiency: d.efficiency,
        wasted_bytes: d.wasted_bytes,
        user_wasted_percent: d.user_wasted_percent,
        true_waste_bytes: input.analysis.waste.wasted_bytes,
        size_bytes: d.size_bytes,
        compressed_bytes: image.compressed_bytes(),
    };
    let results: Vec<CiRuleResult> = input
        .gate()
        .rules()
        .map(|r| evaluate_rule(r.id, cfg, input))
        .collect();
    let pass = results.iter().all(|r| r.status != Status::Fail);
    Evaluation {
        image: image.display_name(),
        pass,
        measures,
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
            baseline: Some(&baseline),
            comparison: Some(comparison),
        },
    )
}

fn evaluate_rule(rule: CiRule, cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    match rule {
        CiRule::LowestEfficiency => lowest_efficiency(cfg, input),
        CiRule::HighestWastedBytes => highest_wasted_bytes(cfg, input),
        CiRule::HighestUserWastedPercent => highest_user_wasted_percent(cfg, input),
        CiRule::MaxTrueWaste => max_true_waste(cfg, input),
        CiRule::MaxImageSize => max_size(rule, cfg.max_image_size.as_ref(), input),
        CiRule::MaxCompressedSize => max_size(rule, cfg.max_compressed_size.as_ref(), input),
        CiRule::MaxLeftoverBytes => max_leftover_bytes(cfg, input),
        CiRule::ForbiddenLeftovers => forbidden_leftovers(cfg, input),
        CiRule::MaxGrowth => max_growth(cfg, input),
        CiRule::NoNewLeftovers => no_new_leftovers(cfg, input),
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

fn outcome(
    rule: CiRule,
    configured: &str,
    threshold: Quantity,
    measured: Option<Quantity>,
    failed: Option<String>,
) -> CiRuleResult {
    let (status, message) = match failed {
        Some(m) => (Status::Fail, m),
        None => (Status::Pass, String::new()),
    };
    CiRuleResult {
        rule,
        status,
        configured: Some(configured.to_string()),
        threshold: Some(threshold),
        measured,
        message,
        culprits: Vec::new(),
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

/// dive's inefficient files, largest first: what its three rules are about.
fn dive_culprits(input: &CiInput) -> Vec<Culprit> {
    input
        .analysis
        .dive
        .inefficient_files
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

fn with_culprits(mut r: CiRuleResult, culprits: impl FnOnce() -> Vec<Culprit>) -> CiRuleResult {
    if r.status == Status::Fail {
        r.culprits = culprits();
    }
    r
}

fn lowest_efficiency(cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    let rule = CiRule::LowestEfficiency;
    let Some(t) = &cfg.lowest_efficiency else {
        return disabled(rule);
    };
    let eff = input.analysis.dive.efficiency;
    // dive: `if threshold > efficiency { fail }`
    let failed = (t.value > eff).then(|| {
        format!(
            "image efficiency is too low (efficiency={eff} < threshold={})",
            t.value
        )
    });
    with_culprits(
        outcome(
            rule,
            &t.text,
            Quantity::Ratio(t.value),
            Some(Quantity::Ratio(eff)),
            failed,
        ),
        || dive_culprits(input),
    )
}

fn highest_wasted_bytes(cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    let rule = CiRule::HighestWastedBytes;
    let Some(t) = &cfg.highest_wasted_bytes else {
        return disabled(rule);
    };
    let wasted = input.analysis.dive.wasted_bytes;
    let failed = (wasted > t.value).then(|| {
        format!(
            "too many bytes wasted (wasted-bytes={wasted} > threshold={})",
            t.value
        )
    });
    with_culprits(
        outcome(
            rule,
            &t.text,
            Quantity::Bytes(t.value),
            Some(Quantity::Bytes(wasted)),
            failed,
        ),
        || dive_culprits(input),
    )
}

fn highest_user_wasted_percent(cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    let rule = CiRule::HighestUserWastedPercent;
    let Some(t) = &cfg.highest_user_wasted_percent else {
        return disabled(rule);
    };
    // dive compares NaN (no user bytes) with `>`, which is false: the rule passes
    let pct = input.analysis.dive.user_wasted_percent;
    let failed = pct.filter(|&p| p > t.value).map(|p| {
        format!("too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes={p} > threshold={})", t.value)
    });
    let mut r = outcome(
        rule,
        &t.text,
        Quantity::Ratio(t.value),
        pct.map(Quantity::Ratio),
        failed,
    );
    if pct.is_none() {
        r.message = "no bytes in user layers: nothing to compare (passes, as in dive)".to_string();
    }
    with_culprits(r, || dive_culprits(input))
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

fn max_true_waste(cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    let rule = CiRule::MaxTrueWaste;
    let Some(t) = &cfg.max_true_waste else {
        return disabled(rule);
    };
    let wasted = input.analysis.waste.wasted_bytes;
    let size = input.analysis.dive.size_bytes;
    let r = match t.value {
        Limit::Bytes(max) => {
            let failed = (wasted > max)
                .then(|| format!("{wasted} bytes are shipped but invisible in the final filesystem (> {max} allowed)"));
            outcome(
                rule,
                &t.text,
                Quantity::Bytes(max),
                Some(Quantity::Bytes(wasted)),
                failed,
            )
        }
        Limit::Fraction(max) => {
            let f = fraction(wasted as f64, size);
            let failed = (f > max).then(|| {
                format!(
                    "{} of the image ({wasted} of {size} bytes) is shipped but invisible in the final filesystem (> {} allowed)",
                    percent(f),
                    percent(max)
                )
            });
            outcome(
                rule,
                &t.text,
                Quantity::Fraction(max),
                Some(Quantity::Fraction(f)),
                failed,
            )
        }
    };
    with_culprits(r, || {
        input
            .analysis
            .waste
            .wasted_paths(input.image)
            .into_iter()
            .take(TOP_CULPRITS)
            .map(|p| {
                let layers: Vec<String> = p.layers.iter().map(|l| l.to_string()).collect();
                Culprit {
                    kind: CulpritKind::Path,
                    name: p.path,
                    bytes: p.bytes,
                    layer: p.layers.first().copied(),
                    detail: format!("layer {}", layers.join(", ")),
                }
            })
            .collect()
    })
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

fn max_size(rule: CiRule, t: Option<&Threshold<u64>>, input: &CiInput) -> CiRuleResult {
    let Some(t) = t else { return disabled(rule) };
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
    let r = outcome(
        rule,
        &t.text,
        Quantity::Bytes(t.value),
        Some(Quantity::Bytes(size)),
        failed,
    );
    with_culprits(r, || {
        if compressed {
            layer_culprits(input.image.layers.iter(), |l| l.compressed_bytes)
        } else {
            layer_culprits(input.image.layers.iter(), |l| l.size_bytes)
        }
    })
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

fn max_leftover_bytes(cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    let rule = CiRule::MaxLeftoverBytes;
    let Some(t) = &cfg.max_leftover_bytes else {
        return disabled(rule);
    };
    let Some(summary) = input.leftovers else {
        return skipped(rule, &t.text, Quantity::Bytes(t.value), NO_LEFTOVERS);
    };
    let total = summary.total_bytes();
    let failed = (total > t.value).then(|| {
        format!(
            "build-tool leftovers take {total} bytes (> {} allowed)",
            t.value
        )
    });
    let r = outcome(
        rule,
        &t.text,
        Quantity::Bytes(t.value),
        Some(Quantity::Bytes(total)),
        failed,
    );
    with_culprits(r, || leftover_culprits(summary, None))
}

fn forbidden_leftovers(cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    let rule = CiRule::ForbiddenLeftovers;
    if cfg.forbidden_leftovers.is_empty() {
        return disabled(rule);
    }
    let configured = join_categories(&cfg.forbidden_leftovers, ",");
    let threshold = Quantity::Categories(cfg.forbidden_leftovers.clone());
    let Some(summary) = input.leftovers else {
        return skipped(rule, &configured, threshold, NO_LEFTOVERS);
    };
    let found: Vec<Category> = cfg
        .forbidden_leftovers
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
    let r = outcome(
        rule,
        &configured,
        threshold,
        Some(Quantity::Categories(found.clone())),
        failed,
    );
    with_culprits(r, || leftover_culprits(summary, Some(&found)))
}

fn max_growth(cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    let rule = CiRule::MaxGrowth;
    let Some(t) = &cfg.max_growth else {
        return disabled(rule);
    };
    let Some(base) = input.baseline else {
        let threshold = match t.value {
            Limit::Bytes(b) => Quantity::Bytes(b),
            Limit::Fraction(f) => Quantity::Fraction(f),
        };
        return skipped(
            rule,
            &t.text,
            threshold,
            "no baseline image given (--baseline IMAGE)",
        );
    };
    let size = input.analysis.dive.size_bytes;
    let growth = size as i128 - base.size_bytes as i128;
    let growth = growth.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let r = match t.value {
        Limit::Bytes(max) => {
            let failed = (growth > 0 && growth as u64 > max).then(|| {
                format!(
                    "grew by {growth} bytes over {} ({} → {size} bytes; > {max} allowed)",
                    base.name, base.size_bytes
                )
            });
            outcome(
                rule,
                &t.text,
                Quantity::Bytes(max),
                Some(Quantity::DeltaBytes(growth)),
                failed,
            )
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
            outcome(
                rule,
                &t.text,
                Quantity::Fraction(max),
                Some(Quantity::Fraction(f)),
                failed,
            )
        }
    };
    with_culprits(r, || match input.comparison {
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
    })
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
            name: f.path.clone(),
            bytes: f.delta_bytes.unsigned_abs(),
            layer: f.b.as_ref().and_then(|b| b.layer),
            detail: "grew".to_string(),
        })
        .collect()
}

fn no_new_leftovers(cfg: &CiThresholds, input: &CiInput) -> CiRuleResult {
    let rule = CiRule::NoNewLeftovers;
    if !cfg.no_new_leftovers {
        return disabled(rule);
    }
    let Some(l) = input.comparison.and_then(|c| c.leftovers.as_ref()) else {
        return skipped(rule, "0", Quantity::Count(0), NO_LEFTOVERS);
    };
    let failed = (!l.new.is_empty()).then(|| {
        format!(
            "{} leftover findings that the baseline does not have ({} bytes)",
            l.new.len(),
            l.new.iter().map(|x| x.bytes).sum::<u64>()
        )
    });
    let r = outcome(
        rule,
        "0",
        Quantity::Count(0),
        Some(Quantity::Count(l.new.len() as u64)),
        failed,
    );
    with_culprits(r, || {
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
    })
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
    fn fraction_of_nothing() {
        assert_eq!(fraction(0.0, 0), 0.0);
        assert_eq!(fraction(1.0, 0), f64::MAX);
        // 100 of 1000 is exactly the double nearest 0.1, as `10%` parses to
        assert_eq!(fraction(100.0, 1000), 10.0 / 100.0);
    }
}
