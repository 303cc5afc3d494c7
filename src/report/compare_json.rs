//! The JSON of `bathy compare --json`: the comparison as wire types (docs/json.md, "compare"),
//! with the diff tree given as a list of directories. Formats only.

use crate::analysis::compare::{
    Comparison, FileChange, Headline, LayerDiff, LeftoverDiff, PackageDiff, Rollup, RuleOutcome,
    Verdict,
};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompareDoc<'a> {
    pub version: &'static str,
    pub headline: &'a Headline,
    pub layers: &'a LayerDiff,
    pub files: FilesOut<'a>,
    pub packages: &'a Option<PackageDiff>,
    pub leftovers: &'a Option<LeftoverDiff>,
    /// Present with `--ci`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<CiOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesOut<'a> {
    pub candidates: usize,
    pub totals: &'a Rollup,
    /// Every directory with changes under it, largest churn first.
    pub directories: Vec<DirOut<'a>>,
    pub changes: &'a [FileChange],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirOut<'a> {
    pub path: &'a str,
    #[serde(flatten)]
    pub rollup: &'a Rollup,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiOut<'a> {
    pub passed: bool,
    pub rules: &'a [RuleOutcome],
}

pub fn build<'a>(c: &'a Comparison, rules: Option<&'a [RuleOutcome]>) -> CompareDoc<'a> {
    let mut dirs: Vec<_> = c.files.tree.iter().skip(1).filter(|n| n.is_dir).collect();
    dirs.sort_by(|x, y| {
        y.rollup
            .churn_bytes()
            .cmp(&x.rollup.churn_bytes())
            .then_with(|| x.path.cmp(&y.path))
    });
    CompareDoc {
        version: env!("CARGO_PKG_VERSION"),
        headline: &c.headline,
        layers: &c.layers,
        files: FilesOut {
            candidates: c.files.candidates,
            totals: c.files.totals(),
            directories: dirs
                .into_iter()
                .map(|n| DirOut {
                    path: &n.path,
                    rollup: &n.rollup,
                })
                .collect(),
            changes: &c.files.changes,
        },
        packages: &c.packages,
        leftovers: &c.leftovers,
        ci: rules.map(|r| CiOut {
            passed: r.iter().all(|o| o.verdict != Verdict::Fail),
            rules: r,
        }),
    }
}
