//! "Why is it big": leftovers, packages, stages and estimates over one analysed image, as one
//! report the text, JSON and TUI front ends share.

use crate::analysis::dockerfile::Dockerfile;
use crate::analysis::estimates::{estimate, Estimates};
use crate::analysis::fsview::FinalFs;
use crate::analysis::leftovers::{self, Category, Context, Leftover, RuleSet};
use crate::analysis::packages::{self, npm_apps, npm_production_closure, Manager, Package};
use crate::analysis::stages::{self, StageOptions, StageReport};
use crate::analysis::Analysis;
use crate::image::Image;
use crate::units::human_bytes;
use serde::Serialize;
use std::fmt::Write;

/// What the analyses are told besides the image.
#[derive(Clone, Debug, Default)]
pub struct WhyOptions {
    /// Built-in rules with the user's `--rules` applied (default: built-in only).
    pub rules: Option<RuleSet>,
    pub stages: StageOptions,
}

impl WhyOptions {
    /// Options from the command line's files: `--rules`, `--dockerfile`, `--target`.
    pub fn from_files(
        rules: Option<&std::path::Path>,
        dockerfile: Option<&std::path::Path>,
        target: Option<String>,
    ) -> crate::Result<WhyOptions> {
        let mut set = RuleSet::builtin();
        if let Some(p) = rules {
            set = set.with_overrides(RuleSet::load(p)?);
        }
        let df = dockerfile.map(Dockerfile::load).transpose()?;
        if let (Some(df), Some(t)) = (&df, &target) {
            df.chain(Some(t))?;
        }
        Ok(WhyOptions {
            rules: Some(set),
            stages: StageOptions {
                dockerfile: df,
                target,
                ..Default::default()
            },
        })
    }
}

/// Everything "why is it big" found.
#[derive(Clone, Debug)]
pub struct WhyReport {
    /// Largest first.
    pub leftovers: Vec<Leftover>,
    /// Largest first; removed packages (0 final bytes) after the installed ones of equal size.
    pub packages: Vec<Package>,
    pub stages: StageReport,
    pub estimates: Estimates,
    /// The image was read without `capture`, so package databases and ELF facts are missing.
    pub no_contents: bool,
}

impl WhyReport {
    pub fn run(image: &Image, analysis: &Analysis, opts: &WhyOptions) -> WhyReport {
        let fs = FinalFs::new(image, &analysis.merged);
        let builtin;
        let rules = match &opts.rules {
            Some(r) => r,
            None => {
                builtin = RuleSet::builtin();
                &builtin
            }
        };
        let mut pkgs = packages::collect(&fs, &analysis.waste);
        let cfg = image.config.config.clone().unwrap_or_default();
        let mut argv = cfg.entrypoint.clone().unwrap_or_default();
        argv.extend(cfg.cmd.clone().unwrap_or_default());
        let usable = |p: &String| !p.is_empty() && p.len() <= leftovers::MAX_CONFIG_PATH;
        let ctx = Context {
            workdir: cfg.working_dir.clone().filter(usable),
            entrypoint: argv
                .iter()
                .find(|a| a.starts_with('/'))
                .or_else(|| argv.first())
                .filter(|a| usable(a))
                .cloned(),
        };
        // build tools: by name, and npm packages outside every app's production closure
        let mut prod: std::collections::BTreeSet<String> = Default::default();
        let apps = npm_apps(&fs);
        for app in &apps {
            prod.extend(npm_production_closure(&fs, app));
        }
        for p in &mut pkgs {
            p.build_tool = rules.is_build_tool(p.manager, &p.name);
            if p.manager == Manager::Npm && !apps.is_empty() {
                if let Some(d) = p.dir {
                    let path = image.paths.path(d);
                    let in_app = apps.iter().any(|a| {
                        !a.dev_dependencies.is_empty()
                            && path.starts_with(&format!(
                                "{}/node_modules/",
                                a.dir.trim_end_matches('/')
                            ))
                    });
                    if in_app
                        && !prod
                            .iter()
                            .any(|k| path == *k || path.starts_with(&format!("{k}/")))
                    {
                        p.build_tool = true;
                    }
                }
            }
        }
        packages::propagate_build_tools(&mut pkgs);
        let leftovers = leftovers::find(&fs, rules, &pkgs, &ctx);
        let stages = stages::attribute(image, &opts.stages);
        let estimates = estimate(&fs, &leftovers);
        WhyReport {
            leftovers,
            packages: pkgs,
            stages,
            estimates,
            no_contents: image.captured.is_empty(),
        }
    }

    /// Leftover bytes per category, largest first.
    pub fn by_category(&self) -> Vec<(Category, u64)> {
        let mut m: std::collections::BTreeMap<Category, u64> = Default::default();
        for l in &self.leftovers {
            *m.entry(l.category).or_default() += l.bytes;
        }
        let mut v: Vec<(Category, u64)> = m.into_iter().collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.1));
        v
    }

    /// The leftovers and packages as `bathy compare` takes them
    /// (`compare::Side::new(..).with_leftovers(l).with_packages(p)`).
    pub fn compare_items(
        &self,
    ) -> (
        Vec<crate::analysis::compare::LeftoverItem>,
        Vec<crate::analysis::compare::PackageItem>,
    ) {
        let l = self
            .leftovers
            .iter()
            .map(|l| crate::analysis::compare::LeftoverItem {
                category: l.category,
                path: l.path.clone(),
                package: l.package.clone(),
                bytes: l.bytes,
            })
            .collect();
        let p = self
            .packages
            .iter()
            .filter(|p| !p.removed)
            .map(|p| crate::analysis::compare::PackageItem {
                manager: p.manager,
                name: p.name.clone(),
                version: p.version.clone(),
                bytes: p.bytes,
            })
            .collect();
        (l, p)
    }

    /// The leftovers as the CI rules take them (`ci_rules::CiInput::leftovers`).
    pub fn leftover_summary(&self) -> crate::analysis::ci_rules::LeftoverSummary {
        let mut s = crate::analysis::ci_rules::LeftoverSummary::default();
        for l in &self.leftovers {
            let c = s.categories.entry(l.category).or_default();
            c.bytes += l.bytes;
            // findings matched by package often share a directory (`/usr`): name the package
            let name = match &l.package {
                Some(p) => format!("{} (package {p})", l.path),
                None => l.path.clone(),
            };
            c.paths.push((name, l.bytes, l.layer.unwrap_or(0)));
        }
        for c in s.categories.values_mut() {
            c.paths
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        s
    }

    /// The JSON sections (`leftovers`, `packages`, `stages`, `stageSummary`, `estimates`) for
    /// `BathyReport::extra`.
    pub fn json_sections(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        let leftovers: Vec<LeftoverJson> = self.leftovers.iter().map(LeftoverJson::from).collect();
        let packages: Vec<PackageJson> = self.packages.iter().map(PackageJson::from).collect();
        m.insert(
            "leftovers".into(),
            serde_json::to_value(leftovers).unwrap_or_default(),
        );
        m.insert(
            "packages".into(),
            serde_json::to_value(packages).unwrap_or_default(),
        );
        m.insert(
            "stages".into(),
            serde_json::to_value(&self.stages.layers).unwrap_or_default(),
        );
        m.insert(
            "stageSummary".into(),
            serde_json::json!({ "method": self.stages.method, "base": self.stages.base, "byStage": self.stages.summary }),
        );
        m.insert(
            "estimates".into(),
            serde_json::to_value(&self.estimates).unwrap_or_default(),
        );
        m
    }

    /// The text report's section.
    pub fn render_text(&self, image: &Image) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Why is it big:");
        if self.no_contents {
            let _ = writeln!(
                s,
                "  (read without file contents: package databases and ELF facts are not available)"
            );
        }
        let cats = self.by_category();
        if cats.is_empty() {
            let _ = writeln!(s, "  no build-tool leftovers found");
        } else {
            let parts: Vec<String> = cats
                .iter()
                .map(|(c, b)| format!("{} {}", c.as_str(), human_bytes(*b)))
                .collect();
            let _ = writeln!(s, "  leftovers: {}", parts.join(", "));
            let _ = writeln!(
                s,
                "  {:>9}  {:<14} {:<6} {:<48} From",
                "Bytes", "Category", "Layer", "Path"
            );
            for l in self.leftovers.iter().take(TOP) {
                let mut path = l.path.clone();
                if let Some(p) = &l.package {
                    path = format!("{path} (package {p})");
                }
                let layer = l.layer.map(|x| x.to_string()).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  {:>9}  {:<14} {:<6} {:<48} {}",
                    human_bytes(l.bytes),
                    l.category.as_str(),
                    layer,
                    path,
                    short(&l.command, 60)
                );
            }
            if self.leftovers.len() > TOP {
                let _ = writeln!(s, "  … and {} more findings", self.leftovers.len() - TOP);
            }
            let mut advice: Vec<&str> = Vec::new();
            for l in self
                .leftovers
                .iter()
                .filter(|l| l.category != Category::Docs)
            {
                if !advice.contains(&l.advice.as_str()) && advice.len() < 5 {
                    advice.push(&l.advice);
                }
            }
            for a in advice {
                let _ = writeln!(s, "  → {a}");
            }
        }
        let _ = writeln!(s);
        let installed: Vec<&Package> = self.packages.iter().filter(|p| !p.removed).collect();
        if !installed.is_empty() {
            let tools: u64 = installed
                .iter()
                .filter(|p| p.build_tool)
                .map(|p| p.bytes)
                .sum();
            let _ = writeln!(
                s,
                "Packages: {} installed ({} of them build tools, {})",
                installed.len(),
                installed.iter().filter(|p| p.build_tool).count(),
                human_bytes(tools)
            );
            for p in installed.iter().take(TOP) {
                let layer = p.layer.map(|x| x.to_string()).unwrap_or_default();
                let tool = if p.build_tool { "  build tool" } else { "" };
                let _ = writeln!(
                    s,
                    "  {:>9}  {:<6} {} {} (layer {layer}){tool}",
                    human_bytes(p.bytes),
                    p.manager.as_str(),
                    p.name,
                    p.version
                );
            }
            let removed: Vec<&Package> = self
                .packages
                .iter()
                .filter(|p| p.removed && p.shipped_bytes > 0)
                .collect();
            if !removed.is_empty() {
                let total: u64 = removed.iter().map(|p| p.shipped_bytes).sum();
                let _ = writeln!(
                    s,
                    "  removed later but still shipped in lower layers: {} packages, {}",
                    removed.len(),
                    human_bytes(total)
                );
                let mut removed = removed;
                removed.sort_by_key(|p| std::cmp::Reverse(p.shipped_bytes));
                for p in removed.iter().take(5) {
                    let layer = p.layer.map(|x| x.to_string()).unwrap_or_default();
                    let _ = writeln!(
                        s,
                        "  {:>9}  {:<6} {} (installed in layer {layer})",
                        human_bytes(p.shipped_bytes),
                        p.manager.as_str(),
                        p.name
                    );
                }
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "Stages ({}):", self.stages.method);
        for l in &self.stages.layers {
            let origin = match l.origin {
                stages::Origin::Base => "base",
                stages::Origin::Build => "build",
            };
            let stage = l.stage.clone().unwrap_or_else(|| "-".into());
            let guess = if l.inferred { "?" } else { "" };
            let _ = writeln!(
                s,
                "  {:>3}  {:>9}  {origin:<5}{guess:<1} {:<20} {}",
                l.layer,
                human_bytes(l.bytes),
                short(&stage, 20),
                short(&l.instruction, 70)
            );
        }
        for sum in &self.stages.summary {
            let origin = match sum.origin {
                stages::Origin::Base => "base image",
                stages::Origin::Build => "build",
            };
            let stage = sum
                .stage
                .clone()
                .map(|x| format!(" {x}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  total {origin}{stage}: {} in {} layers",
                human_bytes(sum.bytes),
                sum.layers
            );
        }
        let _ = writeln!(s);
        let e = &self.estimates;
        let _ = writeln!(
            s,
            "Estimates (final filesystem {}):",
            human_bytes(e.final_bytes)
        );
        let _ = writeln!(
            s,
            "  without leftovers: {}",
            human_bytes(e.without_leftovers_bytes)
        );
        match (e.runtime_closure_bytes, &e.runtime_closure_base) {
            (Some(b), Some(base)) => {
                let prog = e.program.clone().unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  runtime closure of {prog}: {} in {} files, fits {base}",
                    human_bytes(b),
                    e.runtime_closure_files
                );
            }
            _ => {
                let _ = writeln!(s, "  runtime closure: not estimated");
            }
        }
        for a in &e.assumptions {
            let _ = writeln!(s, "    - {a}");
        }
        let _ = image;
        s
    }
}

/// How many rows each text table shows.
pub const TOP: usize = 15;

fn short(s: &str, n: usize) -> String {
    crate::text_fit::truncate(&s.replace('\n', " "), n)
}

/// `bathyscaphe.leftovers[]` as documented in docs/json.md.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LeftoverJson {
    category: &'static str,
    rule: String,
    severity: leftovers::Severity,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<String>,
    bytes: u64,
    files: u64,
    layer: Option<usize>,
    command: String,
    explanation: String,
    advice: String,
}

impl From<&Leftover> for LeftoverJson {
    fn from(l: &Leftover) -> Self {
        LeftoverJson {
            category: l.category.as_str(),
            rule: l.rule.clone(),
            severity: l.severity,
            path: l.path.clone(),
            package: l.package.clone(),
            bytes: l.bytes,
            files: l.files,
            layer: l.layer,
            command: l.command.clone(),
            explanation: l.explanation.clone(),
            advice: l.advice.clone(),
        }
    }
}

/// `bathyscaphe.packages[]`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PackageJson {
    manager: &'static str,
    name: String,
    version: String,
    bytes: u64,
    files: u64,
    layer: Option<usize>,
    build_tool: bool,
    removed: bool,
    shipped_bytes: u64,
}

impl From<&Package> for PackageJson {
    fn from(p: &Package) -> Self {
        PackageJson {
            manager: p.manager.as_str(),
            name: p.name.clone(),
            version: p.version.clone(),
            bytes: p.bytes,
            files: p.files,
            layer: p.layer,
            build_tool: p.build_tool,
            removed: p.removed,
            shipped_bytes: p.shipped_bytes,
        }
    }
}
