//! Stage attribution: for every layer, whether it came from the base image or the build, from
//! which stage and which instruction, by the base image's diff_ids, a Dockerfile, or history.

use crate::analysis::dockerfile::Dockerfile;
use crate::image::{clean_command, HistoryEntry, Image};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Base,
    Build,
}

/// Where one layer came from.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerStage {
    pub layer: usize,
    pub origin: Origin,
    /// The stage (its `AS` name or `stage-N`) or, for base layers, the base image's name.
    pub stage: Option<String>,
    /// The Dockerfile instruction, else the history command.
    pub instruction: String,
    /// `COPY --from=X`: the stage or image the files came from (credited as `stage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_from: Option<String>,
    /// Guessed from history rather than known from a base image or a Dockerfile.
    pub inferred: bool,
    pub bytes: u64,
}

/// Bytes per origin and stage.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageSum {
    pub origin: Origin,
    pub stage: Option<String>,
    pub bytes: u64,
    pub layers: usize,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageReport {
    pub layers: Vec<LayerStage>,
    /// How the base boundary was found, in words.
    pub method: String,
    pub base: Option<String>,
    pub summary: Vec<StageSum>,
}

/// What is known besides the image.
#[derive(Clone, Debug, Default)]
pub struct StageOptions {
    /// The base image's diff_ids, in order (`--base IMAGE`).
    pub base_diff_ids: Option<Vec<String>>,
    pub base_name: Option<String>,
    pub dockerfile: Option<Dockerfile>,
    pub target: Option<String>,
}

const BASE_NAME_LABEL: &str = "org.opencontainers.image.base.name";

/// The instruction keyword of a history entry (`RUN`, `COPY`, …; empty for imports).
pub fn history_kind(h: &HistoryEntry) -> String {
    let raw = h.created_by.as_deref().unwrap_or("").trim();
    if raw.is_empty() {
        return String::new();
    }
    let c = clean_command(raw);
    c.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// `COPY --from=X …` in a history string (buildkit, kaniko).
pub fn history_copy_from(h: &HistoryEntry) -> Option<String> {
    let c = clean_command(h.created_by.as_deref().unwrap_or(""));
    let mut words = c.split_whitespace();
    if !matches!(words.next(), Some("COPY") | Some("ADD")) {
        return None;
    }
    words
        .take_while(|w| w.starts_with("--"))
        .find_map(|w| w.strip_prefix("--from="))
        .map(str::to_string)
}

/// The history command without builder noise (`# buildkit`, `/bin/sh -c`).
pub fn history_text(h: &HistoryEntry) -> String {
    let c = clean_command(h.created_by.as_deref().unwrap_or(""));
    let c = c
        .strip_suffix("# buildkit")
        .unwrap_or(&c)
        .trim()
        .to_string();
    let c = match c.strip_prefix("RUN /bin/sh -c ") {
        Some(r) => format!("RUN {r}"),
        None => c,
    };
    crate::image::label_or_fallback(c, Some(h))
}

fn is_buildkit(h: &HistoryEntry) -> bool {
    h.comment.as_deref() == Some("buildkit.dockerfile.v0")
        || h.created_by
            .as_deref()
            .is_some_and(|c| c.trim_end().ends_with("# buildkit"))
}

/// Seconds since the epoch of an RFC 3339 time (None: unparseable or the zero time).
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if y <= 1 {
        return None;
    }
    // days from civil (Howard Hinnant's algorithm)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let mut t = days * 86400 + h * 3600 + mi * 60 + se;
    let rest = s.get(19..).unwrap_or("");
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if let Some(off) = rest.strip_prefix('+').or_else(|| rest.strip_prefix('-')) {
        let sign = if rest.starts_with('+') { 1 } else { -1 };
        let oh = off
            .get(0..2)
            .and_then(|x| x.parse::<i64>().ok())
            .unwrap_or(0);
        let om = off
            .get(3..5)
            .and_then(|x| x.parse::<i64>().ok())
            .unwrap_or(0);
        t -= sign * (oh * 3600 + om * 60);
    }
    Some(t)
}

/// A gap in creation times this long between two history steps marks a different build.
pub const BUILD_GAP_SECONDS: i64 = 30 * 60;

/// Index into `history` of the last step that belongs to the base image (None: no base found),
/// and how it was found.
pub fn infer_base_boundary(history: &[HistoryEntry]) -> (Option<usize>, String) {
    let last_layer = history.iter().rposition(|h| !h.empty_layer);
    let Some(last_layer) = last_layer else {
        return (None, "no layers in history".into());
    };
    // 1. the base image's own CMD/ENTRYPOINT, with layers after it
    if let Some(i) = history[..last_layer]
        .iter()
        .rposition(|h| h.empty_layer && matches!(history_kind(h).as_str(), "CMD" | "ENTRYPOINT"))
    {
        return (
            Some(i),
            "inferred: the base image's last CMD/ENTRYPOINT in history".into(),
        );
    }
    // 2. a run of buildkit steps at the end after steps of another builder
    if is_buildkit(&history[last_layer]) {
        if let Some(i) = history.iter().rposition(|h| !is_buildkit(h)) {
            return (
                Some(i),
                "inferred: where buildkit's `# buildkit` steps begin".into(),
            );
        }
    }
    // 3. the last long gap in creation times
    let times: Vec<Option<i64>> = history
        .iter()
        .map(|h| h.created.as_deref().and_then(parse_time))
        .collect();
    for i in (1..history.len()).rev() {
        if let (Some(a), Some(b)) = (times[i - 1], times[i]) {
            if b - a >= BUILD_GAP_SECONDS && history[i..].iter().any(|h| !h.empty_layer) {
                return (
                    Some(i - 1),
                    format!(
                        "inferred: a gap of {} in creation times",
                        human_duration(b - a)
                    ),
                );
            }
        }
    }
    // 4. an imported or `ADD file:… in /` root filesystem first
    let first = &history[0];
    let c = first.created_by.as_deref().unwrap_or("");
    if last_layer > 0
        && (c.trim().is_empty() || (c.contains("ADD file:") && c.trim_end().ends_with(" in /")))
    {
        return (
            Some(0),
            "inferred: the first layer is an imported root filesystem".into(),
        );
    }
    (
        None,
        "inferred: no base image boundary in history (FROM scratch?)".into(),
    )
}

fn human_duration(s: i64) -> String {
    if s >= 86400 {
        format!("{} days", s / 86400)
    } else if s >= 3600 {
        format!("{} hours", s / 3600)
    } else {
        format!("{} minutes", s / 60)
    }
}

/// How well a history step matches a Dockerfile instruction (0: not at all).
fn match_score(h: &HistoryEntry, kind: &str, args: &str) -> u32 {
    let hk = history_kind(h);
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let ht = norm(&history_text(h));
    let it = norm(&format!("{kind} {args}"));
    if hk != kind {
        // the legacy builder and buildah write `ADD`/`COPY` both ways
        return 0;
    }
    let mut score = 10;
    if ht == it {
        score += 10;
    } else if matches!(kind, "COPY" | "ADD") {
        let dest = args.split_whitespace().last().unwrap_or("");
        if ht.ends_with(&format!(" {dest}")) || ht.ends_with(&format!("in {dest}")) {
            score += 5;
        }
    } else if ht.contains(&norm(args)) {
        score += 5;
    }
    score
}

/// One history step's attribution.
#[derive(Clone, Debug)]
struct Step {
    origin: Origin,
    /// The stage (or base image) credited.
    stage: Option<String>,
    instruction: String,
    copy_from: Option<String>,
    /// Guessed from history rather than known.
    inferred: bool,
}

impl Step {
    /// What history alone says: a build step, no stage yet.
    fn from_history(h: &HistoryEntry) -> Step {
        Step {
            origin: Origin::Build,
            stage: None,
            instruction: history_text(h),
            copy_from: history_copy_from(h),
            inferred: true,
        }
    }
}

/// Where the base image ends in history, and how that was found.
struct Boundary {
    /// Layers known to be the base image's (`--base`), when known.
    known_base_layers: Option<usize>,
    /// Index into history of the base image's last step.
    last_base_step: Option<usize>,
    method: String,
}

/// The base boundary: known from the base image's diff_ids, else inferred from history.
fn base_boundary(image: &Image, opts: &StageOptions, base_name: Option<&str>) -> Boundary {
    let Some(ids) = &opts.base_diff_ids else {
        let (last_base_step, method) = infer_base_boundary(&image.config.history);
        return Boundary {
            known_base_layers: None,
            last_base_step,
            method,
        };
    };
    let n = image
        .layers
        .iter()
        .zip(ids)
        .take_while(|(l, id)| l.diff_id == **id)
        .count();
    let given = base_name.unwrap_or("given");
    let method = if n == ids.len() {
        format!("base image {given}: its {n} layers match by diff_id")
    } else {
        format!(
            "base image {given}: only {n} of its {} layers match by diff_id",
            ids.len()
        )
    };
    // the history step of the n-th layer
    let last_base_step = n
        .checked_sub(1)
        .and_then(|l| image.layers.get(l))
        .and_then(|l| l.history_index);
    Boundary {
        known_base_layers: Some(n),
        last_base_step,
        method,
    }
}

/// Align history from `start` with the Dockerfile's instructions (best-scoring LCS) and
/// credit each matched step with its stage and instruction. Returns the first matched step.
fn align_dockerfile(
    df: &Dockerfile,
    chain: &[&crate::analysis::dockerfile::Stage],
    history: &[HistoryEntry],
    start: usize,
    steps: &mut [Step],
) -> Option<usize> {
    let expected: Vec<(String, &crate::analysis::dockerfile::Instruction)> = chain
        .iter()
        .flat_map(|s| s.instructions.iter().map(move |i| (s.label(), i)))
        .collect();
    let h = &history[start..];
    let (n, m) = (h.len(), expected.len());
    let score = |i: usize, j: usize| match_score(&h[i], &expected[j].1.kind, &expected[j].1.args);
    let mut dp = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let s = score(i, j);
            let diag = if s > 0 { dp[i + 1][j + 1] + s } else { 0 };
            dp[i][j] = dp[i + 1][j].max(dp[i][j + 1]).max(diag);
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut first_match: Option<usize> = None;
    while i < n && j < m {
        let s = score(i, j);
        if s > 0 && dp[i][j] == dp[i + 1][j + 1] + s {
            let (stage, ins) = &expected[j];
            let copy_from = ins.from.clone();
            let credited = copy_from.as_deref().map(|f| {
                df.stage(f)
                    .map(|s| s.label())
                    .unwrap_or_else(|| f.to_string())
            });
            steps[start + i] = Step {
                origin: Origin::Build,
                stage: credited.or(Some(stage.clone())),
                instruction: ins.text(),
                copy_from,
                inferred: false,
            };
            first_match.get_or_insert(start + i);
            i += 1;
            j += 1;
        } else if dp[i + 1][j] >= dp[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    first_match
}

/// Credit steps from a Dockerfile. Returns whether any step matched; may name the base image
/// (the root stage's `FROM`) and, when the base was not known, say how it was found.
fn credit_dockerfile(
    df: &Dockerfile,
    opts: &StageOptions,
    history: &[HistoryEntry],
    bound: &mut Boundary,
    base_name: &mut Option<String>,
    steps: &mut [Step],
) -> bool {
    let Ok(chain) = df.chain(opts.target.as_deref()) else {
        bound.method += " (the Dockerfile target was not found)";
        return false;
    };
    let root_from = chain.first().map(|s| s.from.clone()).unwrap_or_default();
    if base_name.is_none() && !root_from.eq_ignore_ascii_case("scratch") {
        *base_name = Some(root_from);
    }
    // history after a known base; all of it when the base is only inferred
    let start = match bound.known_base_layers {
        Some(_) => bound.last_base_step.map(|b| b + 1).unwrap_or(0),
        None => 0,
    };
    let Some(fm) = align_dockerfile(df, &chain, history, start, steps) else {
        return false;
    };
    // unmatched steps after the first match: the stage of the step before them
    let mut last_stage = None;
    for step in steps.iter_mut().skip(fm) {
        if step.inferred {
            step.stage = last_stage.clone();
        } else if step.copy_from.is_none() {
            last_stage = step.stage.clone();
        }
    }
    if bound.known_base_layers.is_none() {
        for s in steps.iter_mut().take(fm) {
            s.origin = Origin::Base;
            s.stage = base_name.clone();
            s.inferred = false;
        }
        bound.method = format!(
            "Dockerfile: history before its first instruction is the base image ({})",
            base_name.as_deref().unwrap_or("scratch")
        );
    }
    true
}

/// Attribute every layer.
pub fn attribute(image: &Image, opts: &StageOptions) -> StageReport {
    let history = &image.config.history;
    let label_base = image
        .config
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get(BASE_NAME_LABEL).cloned());
    let mut steps: Vec<Step> = history.iter().map(Step::from_history).collect();
    let mut base_name = opts.base_name.clone().or(label_base);
    let mut bound = base_boundary(image, opts, base_name.as_deref());
    let matched_any = match &opts.dockerfile {
        Some(df) => credit_dockerfile(df, opts, history, &mut bound, &mut base_name, &mut steps),
        None => false,
    };
    if let Some(b) = bound.last_base_step {
        if !(matched_any && bound.known_base_layers.is_none()) {
            for s in steps.iter_mut().take(b + 1) {
                s.origin = Origin::Base;
                s.stage = base_name.clone();
                s.inferred = bound.known_base_layers.is_none();
            }
        }
    }
    if !matched_any {
        // without a Dockerfile, name what history allows: `COPY --from=X` credits stage X
        for s in steps.iter_mut().filter(|s| s.origin == Origin::Build) {
            if let Some(f) = &s.copy_from {
                s.stage = Some(f.clone());
            }
        }
    }
    let layers = layer_stages(image, &steps);
    let summary = summarize(&layers);
    StageReport {
        layers,
        method: bound.method,
        base: base_name,
        summary,
    }
}

/// Each layer with the attribution of the history step that made it.
fn layer_stages(image: &Image, steps: &[Step]) -> Vec<LayerStage> {
    image
        .layers
        .iter()
        .enumerate()
        .map(
            |(li, l)| match l.history_index.and_then(|hi| steps.get(hi)) {
                Some(s) => LayerStage {
                    layer: li,
                    origin: s.origin,
                    stage: s.stage.clone(),
                    instruction: s.instruction.clone(),
                    copy_from: s.copy_from.clone(),
                    inferred: s.inferred,
                    bytes: l.size_bytes,
                },
                None => LayerStage {
                    layer: li,
                    origin: Origin::Build,
                    stage: None,
                    instruction: String::new(),
                    copy_from: None,
                    inferred: true,
                    bytes: l.size_bytes,
                },
            },
        )
        .collect()
}

/// Bytes and layers per origin and stage.
fn summarize(layers: &[LayerStage]) -> Vec<StageSum> {
    let mut sums: BTreeMap<(Origin, Option<String>), (u64, usize)> = BTreeMap::new();
    for l in layers {
        let e = sums.entry((l.origin, l.stage.clone())).or_default();
        e.0 += l.bytes;
        e.1 += 1;
    }
    sums.into_iter()
        .map(|((origin, stage), (bytes, layers))| StageSum {
            origin,
            stage,
            bytes,
            layers,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            parse_time("2025-01-26T22:54:00.5+01:00"),
            parse_time("2025-01-26T21:54:00Z")
        );
        assert_eq!(parse_time("0001-01-01T00:00:00Z"), None);
    }

    #[test]
    fn reads_kinds_and_from_of_every_builder() {
        let h = |c: &str| HistoryEntry {
            created_by: Some(c.into()),
            ..Default::default()
        };
        assert_eq!(
            history_kind(&h("/bin/sh -c #(nop) COPY file:abc in /server ")),
            "COPY"
        );
        assert_eq!(history_kind(&h("/bin/sh -c apt-get update")), "RUN");
        assert_eq!(history_kind(&h("RUN /bin/sh -c make # buildkit")), "RUN");
        assert_eq!(history_kind(&h("|2 A=1 B=2 /bin/sh -c make")), "RUN");
        assert_eq!(
            history_copy_from(&h("COPY --from=builder /app/server /server # buildkit")).as_deref(),
            Some("builder")
        );
        assert_eq!(
            history_copy_from(&h("COPY --from=build --chown=1:1 /a /b")).as_deref(),
            Some("build")
        );
        assert_eq!(
            history_text(&h("RUN /bin/sh -c make # buildkit")),
            "RUN make"
        );
    }
}
