//! "Why is it big": leftovers, packages, stages and estimates over one analysed image, as one
//! report. Data only: `report::why` makes the view the text report and the explorer show, and
//! `report::json` its wire types.

use crate::analysis::dockerfile::Dockerfile;
use crate::analysis::estimates::{estimate, Estimates};
use crate::analysis::findings::{self, Finding};
use crate::analysis::fsview::FinalFs;
use crate::analysis::leftovers::{self, Category, Context, Leftover, RuleSet};
use crate::analysis::packages::{self, npm_apps, npm_production_closure, Manager, Package};
use crate::analysis::stages::{self, StageOptions, StageReport};
use crate::analysis::Analysis;
use crate::image::Image;

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
    /// Secrets in any layer and risky files (`analysis::findings`).
    pub findings: Vec<Finding>,
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
            findings: findings::find(image, &analysis.merged),
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
}
