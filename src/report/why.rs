//! "Why is it big" as one view: the headlines, sections, rows, recommendations, "removed later
//! but still shipped" findings and estimates that the text report and the explorer's pane both
//! show. Computed once from a `WhyReport`; it decides what is shown (and in which groups), the
//! renderers only lay it out.

use crate::analysis::findings::Check;
use crate::analysis::leftovers::{Category, Leftover};
use crate::analysis::packages::{Manager, Package};
use crate::analysis::stages::Origin;
use crate::analysis::why::WhyReport;
use crate::paths::NodeId;
use crate::units::human_bytes;

/// How many recommendations (distinct advice of non-docs findings) are shown.
pub const MAX_RECOMMENDATIONS: usize = 5;
/// How many "removed later but still shipped" packages are shown.
pub const MAX_REMOVED: usize = 5;
/// How many headlines (packages installed in one layer, removed in a later one) are shown.
pub const MAX_HEADLINES: usize = 3;

/// The categories a separate build stage takes away: their advice is one tip.
pub const BUILD_STAGE: [Category; 3] =
    [Category::Compiler, Category::BuildDeps, Category::DevFiles];

/// Everything "why is it big" shows, in the order it is shown.
#[derive(Clone, Debug)]
pub struct WhyView {
    /// The image was read without file contents (no package databases or ELF facts).
    pub no_contents: bool,
    /// What to fix first, before the tables: packages a later layer removed whose files still
    /// ship, largest first.
    pub headlines: Vec<Headline>,
    pub leftovers: LeftoverSection,
    /// `None` when no package is installed.
    pub packages: Option<PackageSection>,
    pub stages: StageSection,
    pub estimates: EstimateSection,
    /// Secrets and risky files, in check order (empty: none).
    pub findings: Vec<FindingRow>,
}

/// One security finding as shown: what and where, then what to do.
#[derive(Clone, Debug)]
pub struct FindingRow {
    pub check: Check,
    /// `secret private-key (fingerprint 1a2b3c4d) /root/.ssh/id_rsa (layer 1, deleted in layer 2, still shipped)`.
    pub headline: String,
    /// The instruction that added it.
    pub instruction: String,
    pub fix: &'static str,
    /// Relative path in the tree, when the finding is a path.
    pub path: Option<String>,
    pub layer: Option<usize>,
}

/// One finding worth a line of its own, with its fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headline {
    /// `gcc and 37 other packages installed in layer 1 and removed in layer 3: 193 MB still ship`.
    pub text: String,
    pub fix: String,
    /// The layer that added the bytes.
    pub layer: Option<usize>,
}

/// Leftover rows that share a layer (and so a command), shown under it once.
#[derive(Clone, Debug)]
pub struct LeftoverGroup<'a> {
    pub layer: Option<usize>,
    pub command: &'a str,
    /// The bytes of its rows.
    pub bytes: u64,
    pub rows: Vec<&'a LeftoverRow>,
}

#[derive(Clone, Debug)]
pub struct LeftoverSection {
    /// Bytes per category, largest first; empty: no leftovers.
    pub totals: Vec<(Category, u64)>,
    /// Every finding, largest first (a renderer may show only the first ones).
    pub rows: Vec<LeftoverRow>,
    /// Distinct advice of the findings that are not docs, in finding order; the build-stage
    /// categories' advice once, naming what a build stage would keep here.
    pub recommendations: Vec<String>,
}

impl LeftoverSection {
    /// The first `limit` rows grouped by layer, the group with the most bytes first; rows keep
    /// their order (largest first) in their group.
    pub fn groups(&self, limit: usize) -> Vec<LeftoverGroup<'_>> {
        let mut groups: Vec<LeftoverGroup> = Vec::new();
        for r in self.rows.iter().take(limit) {
            match groups.iter_mut().find(|g| g.layer == r.layer) {
                Some(g) => {
                    g.bytes += r.bytes;
                    g.rows.push(r);
                }
                None => groups.push(LeftoverGroup {
                    layer: r.layer,
                    command: &r.command,
                    bytes: r.bytes,
                    rows: vec![r],
                }),
            }
        }
        // stable: equal totals keep the order of their largest row
        groups.sort_by_key(|g| std::cmp::Reverse(g.bytes));
        groups
    }
}

#[derive(Clone, Debug)]
pub struct LeftoverRow {
    pub bytes: u64,
    pub category: Category,
    pub layer: Option<usize>,
    pub path: String,
    /// The package whose files these are, when the rule matched by package.
    pub package: Option<String>,
    /// The command of `layer`.
    pub command: String,
    /// The node of `path`, when it is in the tree.
    pub node: Option<NodeId>,
}

#[derive(Clone, Debug)]
pub struct PackageSection {
    pub installed: usize,
    pub build_tools: usize,
    pub build_tool_bytes: u64,
    /// Installed packages, largest first (a renderer may show only the first ones).
    pub rows: Vec<PackageRow>,
    /// Packages removed in a later layer whose files lower layers still ship.
    pub removed: Option<RemovedSection>,
}

#[derive(Clone, Debug)]
pub struct PackageRow {
    pub bytes: u64,
    pub manager: Manager,
    pub name: String,
    pub version: String,
    pub layer: Option<usize>,
    pub build_tool: bool,
    /// The package's directory (npm, python), for showing it.
    pub dir: Option<NodeId>,
    /// Its final regular files (the explorer shows them alone).
    pub nodes: Vec<NodeId>,
}

#[derive(Clone, Debug)]
pub struct RemovedSection {
    /// How many packages, and their shipped bytes, over all of them.
    pub count: usize,
    pub bytes: u64,
    /// The largest [`MAX_REMOVED`], by shipped bytes.
    pub rows: Vec<RemovedRow>,
}

#[derive(Clone, Debug)]
pub struct RemovedRow {
    pub shipped_bytes: u64,
    pub manager: Manager,
    pub name: String,
    /// The layer that installed it.
    pub layer: Option<usize>,
    /// The layer that removed it.
    pub removed_in: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct StageSection {
    pub method: String,
    pub rows: Vec<StageRow>,
    pub totals: Vec<StageTotal>,
}

#[derive(Clone, Debug)]
pub struct StageRow {
    pub layer: usize,
    pub bytes: u64,
    pub origin: Origin,
    /// The stage was guessed, not read from a Dockerfile or a known base.
    pub inferred: bool,
    pub stage: Option<String>,
    pub instruction: String,
}

#[derive(Clone, Debug)]
pub struct StageTotal {
    pub origin: Origin,
    pub stage: Option<String>,
    pub bytes: u64,
    pub layers: usize,
}

#[derive(Clone, Debug)]
pub struct EstimateSection {
    pub final_bytes: u64,
    pub without_leftovers_bytes: u64,
    /// `None`: not estimated (the assumptions say why).
    pub closure: Option<ClosureRow>,
    pub assumptions: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ClosureRow {
    pub program: String,
    pub bytes: u64,
    pub files: u64,
    pub base: String,
}

/// The word a stage row shows for its origin.
pub fn origin_word(o: Origin) -> &'static str {
    match o {
        Origin::Base => "base",
        Origin::Build => "build",
    }
}

/// The words a stage total shows for its origin.
pub fn origin_total_words(o: Origin) -> &'static str {
    match o {
        Origin::Base => "base image",
        Origin::Build => "build",
    }
}

impl WhyView {
    pub fn new(r: &WhyReport) -> WhyView {
        WhyView {
            no_contents: r.no_contents,
            headlines: removed_headlines(r),
            leftovers: leftover_section(r),
            packages: package_section(r),
            stages: StageSection {
                method: r.stages.method.clone(),
                rows: r
                    .stages
                    .layers
                    .iter()
                    .map(|l| StageRow {
                        layer: l.layer,
                        bytes: l.bytes,
                        origin: l.origin,
                        inferred: l.inferred,
                        stage: l.stage.clone(),
                        instruction: l.instruction.clone(),
                    })
                    .collect(),
                totals: r
                    .stages
                    .summary
                    .iter()
                    .map(|s| StageTotal {
                        origin: s.origin,
                        stage: s.stage.clone(),
                        bytes: s.bytes,
                        layers: s.layers,
                    })
                    .collect(),
            },
            estimates: estimate_section(r),
            findings: r
                .findings
                .iter()
                .map(|f| FindingRow {
                    check: f.check,
                    headline: f.headline(),
                    instruction: f.instruction.clone(),
                    fix: f.fix(),
                    path: f
                        .path
                        .as_ref()
                        .map(|p| p.trim_start_matches('/').to_string()),
                    layer: f.layer,
                })
                .collect(),
        }
    }
}

fn leftover_section(r: &WhyReport) -> LeftoverSection {
    let build: Vec<&Leftover> = r
        .leftovers
        .iter()
        .filter(|l| BUILD_STAGE.contains(&l.category))
        .collect();
    let mut build_tip_given = false;
    let mut recommendations: Vec<String> = Vec::new();
    for l in r.leftovers.iter().filter(|l| l.category != Category::Docs) {
        let advice = if BUILD_STAGE.contains(&l.category) {
            // the rules' build-stage advice differs in wording only: one tip, the largest
            // finding's (it names this image's toolchain), with what it would take away
            if std::mem::replace(&mut build_tip_given, true) {
                continue;
            }
            build_stage_tip(&l.advice, &build)
        } else {
            l.advice.clone()
        };
        if recommendations.len() < MAX_RECOMMENDATIONS && !recommendations.contains(&advice) {
            recommendations.push(advice);
        }
    }
    LeftoverSection {
        totals: r.by_category(),
        rows: r
            .leftovers
            .iter()
            .map(|l| LeftoverRow {
                bytes: l.bytes,
                category: l.category,
                layer: l.layer,
                path: l.path.clone(),
                package: l.package.clone(),
                command: l.command.clone(),
                node: l.node,
            })
            .collect(),
        recommendations,
    }
}

/// How many names the build-stage tip gives.
const TIP_NAMES: usize = 3;

/// `advice` plus this image's case: what the build stage would keep, in bytes and names.
fn build_stage_tip(advice: &str, build: &[&Leftover]) -> String {
    let bytes: u64 = build.iter().map(|l| l.bytes).sum();
    let mut names: Vec<&str> = Vec::new();
    for l in build {
        let name = l
            .package
            .as_deref()
            .unwrap_or_else(|| l.path.rsplit('/').find(|c| !c.is_empty()).unwrap_or("/"));
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let shown = names.len().min(TIP_NAMES);
    let more = match names.len() - shown {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!(
        "{} Here it would keep {} out of the image: {}{more}.",
        advice.trim_end(),
        human_bytes(bytes),
        names[..shown].join(", ")
    )
}

/// Packages installed in one layer and removed in a later one whose files still ship, as one
/// headline per (installing layer, removing layer), the most bytes first.
fn removed_headlines(r: &WhyReport) -> Vec<Headline> {
    let mut groups: Vec<(Option<usize>, Option<usize>, Vec<&Package>)> = Vec::new();
    for p in r
        .packages
        .iter()
        .filter(|p| p.removed && p.shipped_bytes > 0)
    {
        match groups
            .iter_mut()
            .find(|g| g.0 == p.layer && g.1 == p.removed_in)
        {
            Some(g) => g.2.push(p),
            None => groups.push((p.layer, p.removed_in, vec![p])),
        }
    }
    let bytes = |ps: &[&Package]| ps.iter().map(|p| p.shipped_bytes).sum::<u64>();
    groups.sort_by_key(|g| std::cmp::Reverse(bytes(&g.2)));
    groups
        .into_iter()
        .take(MAX_HEADLINES)
        .map(|(layer, removed_in, mut ps)| {
            ps.sort_by_key(|p| std::cmp::Reverse(p.shipped_bytes));
            let command = removed_in
                .and_then(|l| r.stages.layers.iter().find(|s| s.layer == l))
                .map(|s| s.instruction.as_str())
                .unwrap_or("");
            let lead = lead_package(&ps, command);
            let what = match ps.len() {
                1 => lead.to_string(),
                2 => format!("{lead} and 1 other package"),
                n => format!("{lead} and {} other packages", n - 1),
            };
            let at = |l: Option<usize>| l.map(|l| format!("in layer {l}"));
            let text = format!(
                "{what} installed {} and removed {}: {} still ship",
                at(layer).unwrap_or_else(|| "in a lower layer".into()),
                at(removed_in).unwrap_or_else(|| "later".into()),
                human_bytes(bytes(&ps))
            );
            Headline {
                text,
                fix: removal_fix(ps.first().map(|p| p.manager)),
                layer,
            }
        })
        .collect()
}

/// The package a person would name: the first the removing command names, else the largest.
fn lead_package<'a>(ps: &[&'a Package], command: &str) -> &'a str {
    command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '\\' | '\'' | '"'))
        .find_map(|w| ps.iter().find(|p| p.name == w))
        .or(ps.first())
        .map(|p| p.name.as_str())
        .unwrap_or("")
}

/// How to stop shipping what a later layer removes, for this package manager.
fn removal_fix(m: Option<Manager>) -> String {
    let same_run = match m {
        Some(Manager::Apk) => "`apk add --virtual .build-deps … && <build> && apk del .build-deps`",
        Some(Manager::Dpkg) => "`apt-get install … && <build> && apt-get purge -y --auto-remove …`",
        _ => "`install … && <build> && remove …`",
    };
    format!(
        "Install, use and remove them in one RUN ({same_run}), or build in a separate stage and COPY --from only the result."
    )
}

fn package_section(r: &WhyReport) -> Option<PackageSection> {
    let installed: Vec<_> = r.packages.iter().filter(|p| !p.removed).collect();
    if installed.is_empty() {
        return None;
    }
    let tools: Vec<_> = installed.iter().filter(|p| p.build_tool).collect();
    let mut removed: Vec<_> = r
        .packages
        .iter()
        .filter(|p| p.removed && p.shipped_bytes > 0)
        .collect();
    let removed = (!removed.is_empty()).then(|| {
        let count = removed.len();
        let bytes = removed.iter().map(|p| p.shipped_bytes).sum();
        removed.sort_by_key(|p| std::cmp::Reverse(p.shipped_bytes));
        RemovedSection {
            count,
            bytes,
            rows: removed
                .iter()
                .take(MAX_REMOVED)
                .map(|p| RemovedRow {
                    shipped_bytes: p.shipped_bytes,
                    manager: p.manager,
                    name: p.name.clone(),
                    layer: p.layer,
                    removed_in: p.removed_in,
                })
                .collect(),
        }
    });
    Some(PackageSection {
        installed: installed.len(),
        build_tools: tools.len(),
        build_tool_bytes: tools.iter().map(|p| p.bytes).sum(),
        rows: installed
            .iter()
            .map(|p| PackageRow {
                bytes: p.bytes,
                manager: p.manager,
                name: p.name.clone(),
                version: p.version.clone(),
                layer: p.layer,
                build_tool: p.build_tool,
                dir: p.dir,
                nodes: p.nodes.clone(),
            })
            .collect(),
        removed,
    })
}

fn estimate_section(r: &WhyReport) -> EstimateSection {
    let e = &r.estimates;
    let closure = match (e.runtime_closure_bytes, &e.runtime_closure_base) {
        (Some(bytes), Some(base)) => Some(ClosureRow {
            program: e.program.clone().unwrap_or_default(),
            bytes,
            files: e.runtime_closure_files,
            base: base.clone(),
        }),
        _ => None,
    };
    EstimateSection {
        final_bytes: e.final_bytes,
        without_leftovers_bytes: e.without_leftovers_bytes,
        closure,
        assumptions: e.assumptions.clone(),
    }
}
