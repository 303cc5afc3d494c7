//! The JSON report: every key of dive's `--json` export with dive's meaning, plus ours under
//! `bathyscaphe`. Wire types of their own, so the schema is explicit (docs/json.md).

use crate::analysis::dive::{DiveLayerTree, DiveTreeBuilder};
use crate::analysis::leftovers::{Leftover, Severity};
use crate::analysis::packages::Package;
use crate::analysis::why::WhyReport;
use crate::analysis::Analysis;
use crate::image::{EntryKind, HistoryEntry, Image, LayerEntry};
use crate::paths::NodeId;
use crate::report::why::origin_word;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct DiveExport {
    pub layer: Vec<DiveLayer>,
    pub image: DiveImage,
    #[serde(default)]
    pub bathyscaphe: Option<BathyReport>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DiveLayer {
    pub index: usize,
    pub id: String,
    pub digest_id: String,
    pub size_bytes: u64,
    pub command: String,
    pub file_list: Vec<DiveFileInfo>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DiveFileInfo {
    pub path: String,
    pub type_flag: u8,
    pub link_name: String,
    pub size: u64,
    pub file_mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub is_dir: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DiveImage {
    pub size_bytes: u64,
    pub inefficient_bytes: u64,
    pub efficiency_score: f64,
    pub file_reference: Vec<DiveFileReference>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DiveFileReference {
    pub count: usize,
    pub size_bytes: u64,
    pub file: String,
}

/// Our own keys.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct BathyReport {
    pub version: String,
    pub source: String,
    pub format: String,
    pub image: ImageInfo,
    pub size_bytes: u64,
    pub compressed_bytes: u64,
    pub user_size_bytes: u64,
    /// dive's wasted / user size; null where dive's is NaN.
    pub user_wasted_percent: Option<f64>,
    pub efficiency_score: f64,
    pub dive_wasted_bytes: u64,
    pub shipped_bytes: u64,
    pub true_wasted_bytes: u64,
    pub final_bytes: u64,
    pub layers: Vec<LayerReport>,
    pub wasted_paths: Vec<WastedPathReport>,
    /// The "why is it big" sections (leftovers, packages, stages, estimates), when computed.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub why: Option<WhyJson>,
}

// The "why is it big" sections. Their fields are declared in name order: these sections were
// first written through `serde_json::Value`, whose maps sort their keys, and the `--json`
// bytes stay as they were.

/// `bathyscaphe.{estimates, leftovers, packages, stageSummary, stages}`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct WhyJson {
    pub estimates: EstimatesJson,
    pub leftovers: Vec<LeftoverJson>,
    pub packages: Vec<PackageJson>,
    pub stage_summary: StageSummaryJson,
    pub stages: Vec<StageJson>,
}

/// `bathyscaphe.estimates`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct EstimatesJson {
    pub assumptions: Vec<String>,
    pub final_bytes: u64,
    pub program: Option<String>,
    pub runtime_closure_base: Option<String>,
    pub runtime_closure_bytes: Option<u64>,
    pub runtime_closure_files: u64,
    pub without_leftovers_bytes: u64,
}

/// `bathyscaphe.leftovers[]`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct LeftoverJson {
    pub advice: String,
    pub bytes: u64,
    pub category: String,
    pub command: String,
    pub explanation: String,
    pub files: u64,
    pub layer: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    pub path: String,
    pub rule: String,
    pub severity: Severity,
}

/// `bathyscaphe.packages[]`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PackageJson {
    pub build_tool: bool,
    pub bytes: u64,
    pub files: u64,
    pub layer: Option<usize>,
    pub manager: String,
    pub name: String,
    pub removed: bool,
    pub shipped_bytes: u64,
    pub version: String,
}

/// `bathyscaphe.stages[]`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct StageJson {
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_from: Option<String>,
    pub inferred: bool,
    pub instruction: String,
    pub layer: usize,
    pub origin: String,
    pub stage: Option<String>,
}

/// `bathyscaphe.stageSummary`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct StageSummaryJson {
    pub base: Option<String>,
    pub by_stage: Vec<StageSumJson>,
    pub method: String,
}

/// `bathyscaphe.stageSummary.byStage[]`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct StageSumJson {
    pub bytes: u64,
    pub layers: usize,
    pub origin: String,
    pub stage: Option<String>,
}

impl From<&WhyReport> for WhyJson {
    fn from(r: &WhyReport) -> Self {
        let e = &r.estimates;
        WhyJson {
            estimates: EstimatesJson {
                assumptions: e.assumptions.clone(),
                final_bytes: e.final_bytes,
                program: e.program.clone(),
                runtime_closure_base: e.runtime_closure_base.clone(),
                runtime_closure_bytes: e.runtime_closure_bytes,
                runtime_closure_files: e.runtime_closure_files,
                without_leftovers_bytes: e.without_leftovers_bytes,
            },
            leftovers: r.leftovers.iter().map(LeftoverJson::from).collect(),
            packages: r.packages.iter().map(PackageJson::from).collect(),
            stage_summary: StageSummaryJson {
                base: r.stages.base.clone(),
                by_stage: r
                    .stages
                    .summary
                    .iter()
                    .map(|s| StageSumJson {
                        bytes: s.bytes,
                        layers: s.layers,
                        origin: origin_word(s.origin).to_string(),
                        stage: s.stage.clone(),
                    })
                    .collect(),
                method: r.stages.method.clone(),
            },
            stages: r
                .stages
                .layers
                .iter()
                .map(|l| StageJson {
                    bytes: l.bytes,
                    copy_from: l.copy_from.clone(),
                    inferred: l.inferred,
                    instruction: l.instruction.clone(),
                    layer: l.layer,
                    origin: origin_word(l.origin).to_string(),
                    stage: l.stage.clone(),
                })
                .collect(),
        }
    }
}

impl From<&Leftover> for LeftoverJson {
    fn from(l: &Leftover) -> Self {
        LeftoverJson {
            advice: l.advice.clone(),
            bytes: l.bytes,
            category: l.category.as_str().to_string(),
            command: l.command.clone(),
            explanation: l.explanation.clone(),
            files: l.files,
            layer: l.layer,
            package: l.package.clone(),
            path: l.path.clone(),
            rule: l.rule.clone(),
            severity: l.severity,
        }
    }
}

impl From<&Package> for PackageJson {
    fn from(p: &Package) -> Self {
        PackageJson {
            build_tool: p.build_tool,
            bytes: p.bytes,
            files: p.files,
            layer: p.layer,
            manager: p.manager.as_str().to_string(),
            name: p.name.clone(),
            removed: p.removed,
            shipped_bytes: p.shipped_bytes,
            version: p.version.clone(),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImageInfo {
    pub name: String,
    pub tags: Vec<String>,
    pub config_digest: String,
    pub architecture: Option<String>,
    pub os: Option<String>,
    pub created: Option<String>,
    /// From the daemon's inspect, when read from one.
    pub id: Option<String>,
    pub repo_digests: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct HistoryStep {
    pub created_by: String,
    pub created: Option<String>,
}

impl From<&HistoryEntry> for HistoryStep {
    fn from(h: &HistoryEntry) -> Self {
        HistoryStep {
            created_by: h.created_by.clone().unwrap_or_default(),
            created: h.created.clone(),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct LayerReport {
    pub index: usize,
    pub digest: String,
    pub diff_id: String,
    pub compression: String,
    /// dive's layer size: sum of the tar header sizes.
    pub size_bytes: u64,
    pub tar_bytes: u64,
    pub compressed_bytes: u64,
    pub shipped_bytes: u64,
    pub true_wasted_bytes: u64,
    pub entries: usize,
    pub command: String,
    pub created_by: String,
    pub created: Option<String>,
    pub empty_history: Vec<HistoryStep>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WastedPathReport {
    pub path: String,
    pub bytes: u64,
    pub layers: Vec<usize>,
}

/// Go's `os.FileMode` of a tar header, as dive exports it.
pub fn go_file_mode(e: &LayerEntry) -> u32 {
    let m = e.mode;
    let mut out = m & 0o777;
    if m & 0o4000 != 0 {
        out |= 1 << 23;
    }
    if m & 0o2000 != 0 {
        out |= 1 << 22;
    }
    if m & 0o1000 != 0 {
        out |= 1 << 20;
    }
    match e.typeflag {
        b'5' => out |= 1 << 31,
        b'2' => out |= 1 << 27,
        b'3' => out |= (1 << 26) | (1 << 21),
        b'4' => out |= 1 << 26,
        b'6' => out |= 1 << 25,
        _ => {}
    }
    out
}

fn file_info(image: &Image, n: NodeId, e: Option<&LayerEntry>) -> DiveFileInfo {
    match e {
        Some(e) => DiveFileInfo {
            path: image.paths.path(n).trim_start_matches('/').to_string(),
            type_flag: e.typeflag,
            link_name: image.link(e.link).to_string(),
            size: e.size,
            file_mode: go_file_mode(e),
            uid: e.uid,
            gid: e.gid,
            is_dir: e.kind == EntryKind::Dir,
        },
        None => DiveFileInfo {
            path: String::new(),
            type_flag: 0,
            link_name: String::new(),
            size: 0,
            file_mode: 0,
            uid: 0,
            gid: 0,
            is_dir: false,
        },
    }
}

/// Write the report as it is serialized, one file-list entry at a time, so a million-entry
/// image does not need its whole JSON in memory.
pub fn write_export<W: std::io::Write>(
    image: &Image,
    a: &Analysis,
    bathy: &BathyReport,
    w: W,
) -> serde_json::Result<()> {
    #[derive(Serialize)]
    struct ExportOut<'a> {
        layer: LayersOut<'a>,
        image: DiveImage,
        bathyscaphe: &'a BathyReport,
    }
    struct LayersOut<'a>(&'a Image);
    /// One layer's entries in dive's order (the tree dive's metrics are computed on).
    struct FileListOut<'a>(&'a Image, usize, DiveLayerTree);
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct LayerOut<'a> {
        index: usize,
        id: &'a str,
        digest_id: &'a str,
        size_bytes: u64,
        command: String,
        file_list: FileListOut<'a>,
    }
    impl Serialize for LayersOut<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = s.serialize_seq(Some(self.0.layers.len()))?;
            let mut trees = DiveTreeBuilder::new(self.0);
            for l in &self.0.layers {
                seq.serialize_element(&LayerOut {
                    index: l.index,
                    id: &l.id,
                    digest_id: &l.diff_id,
                    size_bytes: l.size_bytes,
                    command: l.dive_command(),
                    file_list: FileListOut(self.0, l.index, trees.build(self.0, l.index)),
                })?;
            }
            seq.end()
        }
    }
    impl Serialize for FileListOut<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let FileListOut(image, layer, tree) = self;
            let entries = &image.layers[*layer].entries;
            let mut seq = s.serialize_seq(Some(tree.postorder.len()))?;
            for &(n, e) in &tree.postorder {
                seq.serialize_element(&file_info(image, n, e.and_then(|i| entries.get(i))))?;
            }
            seq.end()
        }
    }
    let out = ExportOut {
        layer: LayersOut(image),
        image: dive_image(a),
        bathyscaphe: bathy,
    };
    serde_json::to_writer_pretty(w, &out)
}

fn dive_image(a: &Analysis) -> DiveImage {
    let d = &a.dive;
    DiveImage {
        size_bytes: d.size_bytes,
        inefficient_bytes: d.wasted_bytes,
        efficiency_score: d.efficiency,
        file_reference: d
            .inefficient_files
            .iter()
            .map(|f| DiveFileReference {
                count: f.count,
                size_bytes: f.cumulative_bytes,
                file: f.path.clone(),
            })
            .collect(),
    }
}

pub fn bathy_report(image: &Image, a: &Analysis) -> BathyReport {
    let d = &a.dive;
    let w = &a.waste;
    BathyReport {
        version: env!("CARGO_PKG_VERSION").to_string(),
        source: image.source.clone(),
        format: image.format.as_str().to_string(),
        image: ImageInfo {
            name: image.display_name(),
            tags: image.tags.clone(),
            config_digest: image.config_digest.clone(),
            architecture: image.config.architecture.clone(),
            os: image.config.os.clone(),
            created: image
                .daemon
                .as_ref()
                .and_then(|x| x.created.clone())
                .or_else(|| image.config.created.clone()),
            id: image.daemon.as_ref().map(|x| x.id.clone()),
            repo_digests: image
                .daemon
                .as_ref()
                .map(|x| x.repo_digests.clone())
                .unwrap_or_default(),
        },
        size_bytes: d.size_bytes,
        compressed_bytes: image.compressed_bytes(),
        user_size_bytes: d.user_size_bytes,
        user_wasted_percent: d.user_wasted_percent,
        efficiency_score: d.efficiency,
        dive_wasted_bytes: d.wasted_bytes,
        shipped_bytes: w.shipped_bytes,
        true_wasted_bytes: w.wasted_bytes,
        final_bytes: w.final_bytes,
        layers: image
            .layers
            .iter()
            .map(|l| LayerReport {
                index: l.index,
                digest: l.digest.clone(),
                diff_id: l.diff_id.clone(),
                compression: l.compression.name().to_string(),
                size_bytes: l.size_bytes,
                tar_bytes: l.tar_bytes,
                compressed_bytes: l.compressed_bytes,
                shipped_bytes: w.layers[l.index].shipped_bytes,
                true_wasted_bytes: w.layers[l.index].wasted_bytes,
                entries: l.entries.len(),
                command: l.display_command(),
                created_by: l
                    .history
                    .as_ref()
                    .and_then(|h| h.created_by.clone())
                    .unwrap_or_default(),
                created: l.history.as_ref().and_then(|h| h.created.clone()),
                empty_history: l.empty_history.iter().map(HistoryStep::from).collect(),
            })
            .collect(),
        wasted_paths: w
            .wasted_paths(image)
            .into_iter()
            .map(|p| WastedPathReport {
                path: p.path,
                bytes: p.bytes,
                layers: p.layers,
            })
            .collect(),
        why: None,
    }
}
