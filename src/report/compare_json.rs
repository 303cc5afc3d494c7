//! The JSON of `bathy compare --json`: the comparison as wire types (docs/json.md, "compare"),
//! with the diff tree given as a list of directories. Formats only.

use crate::analysis::ci_rules::{Evaluation, Status};
use crate::analysis::compare::{
    Comparison, FileChange, FileDiff, Headline, LayerDiff, LeftoverDiff, PackageDiff, Rollup,
};
use crate::report::ci::{compare_causes, compare_measured, compare_rules};
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
    pub ci: Option<CiOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesOut<'a> {
    pub candidates: usize,
    pub totals: &'a Rollup,
    /// Every directory with changes under it, largest churn first.
    pub directories: Vec<DirOut<'a>>,
    pub changes: ChangesOut<'a>,
}

/// A node's path, spelled out only while it is written: the document never holds every
/// path at once (a deep tree's paths add up to the square of its depth).
pub struct PathOut<'a> {
    files: &'a FileDiff,
    node: usize,
}

impl Serialize for PathOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.files.path(self.node))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirOut<'a> {
    pub path: PathOut<'a>,
    #[serde(flatten)]
    pub rollup: &'a Rollup,
}

/// Every changed path, in path order: its path, then the change.
pub struct ChangesOut<'a>(&'a FileDiff);

#[derive(Serialize)]
struct ChangeOut<'a> {
    path: PathOut<'a>,
    #[serde(flatten)]
    change: &'a FileChange,
}

impl Serialize for ChangesOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let files = self.0;
        s.collect_seq(files.changes.iter().map(|c| ChangeOut {
            path: PathOut {
                files,
                node: c.node,
            },
            change: c,
        }))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CiOut {
    pub passed: bool,
    /// The configured rules.
    pub rules: Vec<RuleOut>,
}

/// One rule of the compare gate, as the text evaluation shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleOut {
    pub rule: &'static str,
    /// The threshold as written (`5%`, `20MB`).
    pub limit: String,
    pub measured: String,
    pub verdict: Verdict,
    /// For a failure, what caused it (largest first).
    pub causes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

impl From<Status> for Verdict {
    fn from(s: Status) -> Verdict {
        match s {
            Status::Pass => Verdict::Pass,
            Status::Fail => Verdict::Fail,
            Status::Skip => Verdict::Skip,
        }
    }
}

fn ci_out(e: &Evaluation) -> CiOut {
    CiOut {
        passed: e.pass,
        rules: compare_rules(e)
            .map(|r| RuleOut {
                rule: r.rule.key(),
                limit: r.configured.clone().unwrap_or_default(),
                measured: compare_measured(r),
                verdict: r.status.into(),
                causes: compare_causes(r),
            })
            .collect(),
    }
}

pub fn build<'a>(c: &'a Comparison, ci: Option<&Evaluation>) -> CompareDoc<'a> {
    let tree = &c.files.tree;
    let mut dirs: Vec<usize> = (1..tree.len()).filter(|&n| tree[n].is_dir).collect();
    dirs.sort_by(|&x, &y| {
        tree[y]
            .rollup
            .churn_bytes()
            .cmp(&tree[x].rollup.churn_bytes())
            .then_with(|| tree[x].path_order.cmp(&tree[y].path_order))
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
                    path: PathOut {
                        files: &c.files,
                        node: n,
                    },
                    rollup: &tree[n].rollup,
                })
                .collect(),
            changes: ChangesOut(&c.files),
        },
        packages: &c.packages,
        leftovers: &c.leftovers,
        ci: ci.map(ci_out),
    }
}
