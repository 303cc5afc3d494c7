//! `--ci` settings: the flags, dive's `.dive-ci` file, and the validation that turns their text
//! into [`CiThresholds`]. Reads the config file; loads no image, prints nothing and renders
//! nothing (`report::ci` writes the evaluation).
//!
//! Order, as dive 0.13.1 does it: defaults, then the file (keys it lacks keep their defaults),
//! then flags. Values are read by `units`, the way dive reads them, so a `.dive-ci` tuned for
//! dive means the same here.

use crate::analysis::ci_rules::{CiRule, CiThresholds, PathGlobs, Threshold};
use crate::analysis::findings::Check;
use crate::analysis::leftovers::Category;
use crate::error::Error;
use crate::units::{parse_bytes, parse_limit, parse_ratio};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file dive reads from the working directory.
pub const DEFAULT_CONFIG_FILE: &str = ".dive-ci";

/// dive's defaults.
pub const DEFAULT_LOWEST_EFFICIENCY: &str = "0.9";
pub const DEFAULT_HIGHEST_WASTED_BYTES: &str = "disabled";
pub const DEFAULT_HIGHEST_USER_WASTED_PERCENT: &str = "0.1";
/// Security checks that fail `--ci` unless configured otherwise (reasons in docs/ci.md).
pub const DEFAULT_FORBIDDEN_FINDINGS: &str = "secret,world-writable";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CiFormat {
    /// A readable evaluation (rule, threshold, measured, PASS/FAIL/SKIP, culprits).
    #[default]
    Text,
    /// The evaluation as JSON.
    Json,
    /// JUnit XML, one testcase per rule (GitLab, Jenkins).
    Junit,
    /// SARIF 2.1.0 (code scanning).
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A Markdown summary for a merge request comment or $GITHUB_STEP_SUMMARY.
    Markdown,
}

/// Colors on a terminal only, and never when `NO_COLOR` is set to something (no-color.org).
pub fn use_color(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// The `--ci` flags; `cli::Cli` flattens them in.
#[derive(Args, Debug, Clone, Default)]
pub struct CiArgs {
    /// Evaluate CI rules instead of exploring; exit 0 when all pass, 1 when one fails
    /// (also when the environment has CI=true; --ci=false turns it off).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ci: Option<bool>,

    /// Read CI rules from FILE (dive's `.dive-ci` format) instead of ./.dive-ci.
    #[arg(long, value_name = "FILE")]
    pub ci_config: Option<PathBuf>,

    /// The config file's `ci:` section (`.dive-ci` text) and its name for messages: read
    /// after the defaults and before the `.dive-ci` file.
    #[arg(skip)]
    pub defaults: Option<(String, String)>,

    /// How to write the evaluation.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub ci_format: Option<CiFormat>,

    /// Write the evaluation (in --ci-format) to FILE; the text evaluation still goes to stdout.
    #[arg(long, value_name = "FILE")]
    pub ci_report: Option<PathBuf>,

    /// Also append a Markdown summary of the evaluation to FILE (`-` for stdout), e.g.
    /// "$GITHUB_STEP_SUMMARY", next to any --ci-format.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// dive's rule: fail when efficiency is below RATIO (0-1; default 0.9; `disabled` turns it off).
    #[arg(
        long = "lowestEfficiency",
        alias = "lowest-efficiency",
        value_name = "RATIO"
    )]
    pub lowest_efficiency: Option<String>,

    /// dive's rule: fail when dive's wasted bytes exceed SIZE (e.g. 20MB, 20MiB; default disabled).
    #[arg(
        long = "highestWastedBytes",
        alias = "highest-wasted-bytes",
        value_name = "SIZE"
    )]
    pub highest_wasted_bytes: Option<String>,

    /// dive's rule: fail when wasted / user bytes exceeds RATIO (0-1; default 0.1).
    #[arg(
        long = "highestUserWastedPercent",
        alias = "highest-user-wasted-percent",
        value_name = "RATIO"
    )]
    pub highest_user_wasted_percent: Option<String>,

    /// Fail when true waste (shipped but invisible bytes) exceeds SIZE or PERCENT% of the image.
    #[arg(long, value_name = "SIZE|PERCENT%")]
    pub max_true_waste: Option<String>,

    /// Fail when the uncompressed image is larger than SIZE.
    #[arg(long, value_name = "SIZE")]
    pub max_image_size: Option<String>,

    /// Fail when the compressed layers are larger than SIZE.
    #[arg(long, value_name = "SIZE")]
    pub max_compressed_size: Option<String>,

    /// Fail when build-tool leftovers exceed SIZE.
    #[arg(long, value_name = "SIZE")]
    pub max_leftover_bytes: Option<String>,

    /// Fail when any of these leftover categories appears (comma-separated, e.g. compiler,package-cache).
    #[arg(long, value_name = "CATEGORIES")]
    pub forbidden_leftovers: Option<String>,

    /// Fail when any of these security checks finds something (comma-separated: secret,
    /// root-user, setuid, world-writable, unknown-owner; default secret,world-writable;
    /// `disabled` turns it off).
    #[arg(long, value_name = "CHECKS")]
    pub forbidden_findings: Option<String>,

    /// Fail when the image grew past --baseline by more than SIZE or PERCENT% of the baseline.
    #[arg(long, value_name = "SIZE|PERCENT%")]
    pub max_growth: Option<String>,

    /// The image to measure growth against (any input form bathy reads).
    #[arg(long, value_name = "IMAGE")]
    pub baseline: Option<String>,

    /// Do not count the bytes of paths matching GLOB toward the waste and leftover rules
    /// (e.g. '/var/cache/debconf/**'); repeatable, added to the config file's list.
    #[arg(long, value_name = "GLOB")]
    pub ignore_paths: Vec<String>,

    /// Fail when a path of the final filesystem matches GLOB (e.g. '**/.env',
    /// '/root/.ssh/**'); repeatable, added to the config file's list.
    #[arg(long, value_name = "GLOB")]
    pub forbid_paths: Vec<String>,

    /// Fail when a path in any layer matches GLOB, even one a later layer deleted (its layer
    /// still ships it); repeatable, added to the config file's list.
    #[arg(long, value_name = "GLOB")]
    pub forbid_paths_anywhere: Vec<String>,
}

impl CiArgs {
    /// Whether any flag that only means something in CI mode was given.
    fn any_ci_flag(&self) -> bool {
        self.ci_config.is_some()
            || self.ci_format.is_some()
            || self.ci_report.is_some()
            || self.summary.is_some()
            || self.rule_flags().iter().any(|(_, v)| v.is_some())
            || self.baseline.is_some()
            || self.path_flags().iter().any(|(_, v)| !v.is_empty())
    }

    fn path_flags(&self) -> [(PathList, &[String]); 3] {
        [
            (PathList::Ignore, &self.ignore_paths),
            (PathList::Forbid, &self.forbid_paths),
            (PathList::ForbidAnywhere, &self.forbid_paths_anywhere),
        ]
    }

    fn rule_flags(&self) -> [(CiRule, Option<&String>); 10] {
        [
            (CiRule::LowestEfficiency, self.lowest_efficiency.as_ref()),
            (
                CiRule::HighestWastedBytes,
                self.highest_wasted_bytes.as_ref(),
            ),
            (
                CiRule::HighestUserWastedPercent,
                self.highest_user_wasted_percent.as_ref(),
            ),
            (CiRule::MaxTrueWaste, self.max_true_waste.as_ref()),
            (CiRule::MaxImageSize, self.max_image_size.as_ref()),
            (CiRule::MaxCompressedSize, self.max_compressed_size.as_ref()),
            (CiRule::MaxLeftoverBytes, self.max_leftover_bytes.as_ref()),
            (
                CiRule::ForbiddenLeftovers,
                self.forbidden_leftovers.as_ref(),
            ),
            (CiRule::ForbiddenFindings, self.forbidden_findings.as_ref()),
            (CiRule::MaxGrowth, self.max_growth.as_ref()),
        ]
    }

    /// CI mode: `--ci[=BOOL]` decides; without it, any CI-only flag turns it on, and so does a
    /// truthy `CI` variable unless another output was asked for (`--json`, `--no-tui`).
    pub fn enabled(&self, env_ci: Option<&str>, other_output: bool) -> bool {
        match self.ci {
            Some(b) => b,
            None => self.any_ci_flag() || (env_ci.is_some_and(truthy) && !other_output),
        }
    }
}

/// dive's reading of the `CI` variable.
pub fn truthy(v: &str) -> bool {
    matches!(v, "true" | "1" | "yes")
}

/// The glob lists: `ignore-paths`, which changes what the waste and leftover rules count, and
/// the lists of the two path rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PathList {
    Ignore,
    Forbid,
    ForbidAnywhere,
}

impl PathList {
    fn key(self) -> &'static str {
        match self {
            PathList::Ignore => "ignore-paths",
            PathList::Forbid => CiRule::ForbidPaths.key(),
            PathList::ForbidAnywhere => CiRule::ForbidPathsAnywhere.key(),
        }
    }
}

/// The rule settings as text, with where each came from, before validation.
#[derive(Clone, Debug, PartialEq)]
struct RawRules {
    values: BTreeMap<CiRule, (String, String)>,
    /// Each glob with where it came from: the file's, then the flags' (lists add up).
    paths: BTreeMap<PathList, Vec<(String, String)>>,
}

impl RawRules {
    fn defaults() -> RawRules {
        let mut values = BTreeMap::new();
        let d = "default".to_string();
        values.insert(
            CiRule::LowestEfficiency,
            (DEFAULT_LOWEST_EFFICIENCY.to_string(), d.clone()),
        );
        values.insert(
            CiRule::HighestWastedBytes,
            (DEFAULT_HIGHEST_WASTED_BYTES.to_string(), d.clone()),
        );
        values.insert(
            CiRule::HighestUserWastedPercent,
            (DEFAULT_HIGHEST_USER_WASTED_PERCENT.to_string(), d.clone()),
        );
        values.insert(
            CiRule::ForbiddenFindings,
            (DEFAULT_FORBIDDEN_FINDINGS.to_string(), d),
        );
        RawRules {
            values,
            paths: BTreeMap::new(),
        }
    }
    fn set(&mut self, rule: CiRule, value: String, from: String) {
        self.values.insert(rule, (value, from));
    }
}

/// The `rules:` mapping of a `.dive-ci`: dive's kebab-case keys and its legacy camelCase ones
/// (dive 0.13.1 reads only the latter from this file), and ours.
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "kebab-case")]
struct FileRules {
    #[serde(
        default,
        alias = "lowestEfficiency",
        alias = "lowest-efficiency-threshold",
        deserialize_with = "present"
    )]
    lowest_efficiency: Option<String>,
    #[serde(default, alias = "highestWastedBytes", deserialize_with = "present")]
    highest_wasted_bytes: Option<String>,
    #[serde(
        default,
        alias = "highestUserWastedPercent",
        deserialize_with = "present"
    )]
    highest_user_wasted_percent: Option<String>,
    #[serde(default, deserialize_with = "present")]
    max_true_waste: Option<String>,
    #[serde(default, deserialize_with = "present")]
    max_image_size: Option<String>,
    #[serde(default, deserialize_with = "present")]
    max_compressed_size: Option<String>,
    #[serde(default, deserialize_with = "present")]
    max_leftover_bytes: Option<String>,
    #[serde(default, deserialize_with = "present_list")]
    forbidden_leftovers: Option<String>,
    #[serde(default, deserialize_with = "present_list")]
    forbidden_findings: Option<String>,
    #[serde(default, deserialize_with = "present")]
    max_growth: Option<String>,
    #[serde(default, deserialize_with = "glob_list")]
    ignore_paths: Option<Vec<String>>,
    #[serde(default, deserialize_with = "glob_list")]
    forbid_paths: Option<Vec<String>>,
    #[serde(default, deserialize_with = "glob_list")]
    forbid_paths_anywhere: Option<Vec<String>>,
    /// Keys we do not know: dive plugins (`plugin1/rule1`) and typos.
    #[serde(flatten)]
    other: BTreeMap<String, serde_norway::Value>,
}

#[derive(Deserialize, Default, Debug)]
struct FileConfig {
    #[serde(default)]
    rules: Option<FileRules>,
    /// Top-level keys we do not know (a typo of `rules:`): warned about, naming the key.
    #[serde(flatten)]
    other: BTreeMap<String, serde_norway::Value>,
}

/// A key that is present: its scalar as written (`0.95`, `20Mb`, `false`); null or empty is ""
/// (disabled), as dive's YAML decoder leaves a string field given a null.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(Some(v.unwrap_or_default()))
}

/// A list in the file: a YAML sequence, or one string.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<String>),
    One(String),
}

/// A list of categories, as a YAML sequence or one comma-separated string.
fn present_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<OneOrMany> = Option::deserialize(d)?;
    Ok(Some(match v {
        None => String::new(),
        Some(OneOrMany::One(s)) => s,
        Some(OneOrMany::Many(v)) => v.join(","),
    }))
}

/// Globs, as a YAML sequence or one string (not split at commas: `{a,b}` is a glob);
/// nothing, or one `disabled`, is an empty list.
fn glob_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let v: Option<OneOrMany> = Option::deserialize(d)?;
    Ok(Some(match v {
        None => Vec::new(),
        Some(OneOrMany::One(s)) if is_disabled(&s) => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    }))
}

/// The validated settings and the notes worth printing (which file was read, ignored keys).
#[derive(Debug)]
pub struct CiSettings {
    pub rules: CiThresholds,
    /// The config file read, as the user would name it (`.dive-ci`, or the --ci-config path).
    pub config_file: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// Read the config file (if any) and the flags into validated rules. `cwd` is where `.dive-ci`
/// is looked for; an explicit `--ci-config` that does not exist is an error.
pub fn load(args: &CiArgs, cwd: &Path) -> crate::Result<CiSettings> {
    let mut raw = RawRules::defaults();
    let mut warnings = Vec::new();
    let path = match &args.ci_config {
        Some(p) => {
            config_file_kind(p)?;
            Some(p.clone())
        }
        // `.dive-ci` is optional, but one that is there and not a file is a mistake to report
        None => {
            let p = cwd.join(DEFAULT_CONFIG_FILE);
            match config_file_kind(&p) {
                Ok(()) => Some(p),
                Err(_) if std::fs::symlink_metadata(&p).is_err() => None,
                Err(Error::Config { message, .. }) => {
                    return Err(Error::Config {
                        what: DEFAULT_CONFIG_FILE.into(),
                        message,
                    })
                }
                Err(e) => return Err(e),
            }
        }
    };
    if let Some((name, text)) = &args.defaults {
        apply_file(&mut raw, text, name, &mut warnings)?;
    }
    let shown = args
        .ci_config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
    if let Some(p) = &path {
        let text = std::fs::read_to_string(p).map_err(|e| Error::Io {
            path: shown.clone(),
            source: e,
        })?;
        apply_file(&mut raw, &text, &shown.display().to_string(), &mut warnings)?;
    }
    for (rule, value) in args.rule_flags() {
        if let Some(v) = value {
            let flag = rule.info().dive_name.unwrap_or(rule.key());
            raw.set(rule, v.clone(), format!("--{flag}"));
        }
    }
    for (list, globs) in args.path_flags() {
        let from = format!("--{}", list.key());
        raw.paths
            .entry(list)
            .or_default()
            .extend(globs.iter().map(|g| (g.clone(), from.clone())));
    }
    Ok(CiSettings {
        rules: validate(&raw)?,
        config_file: path.map(|_| shown),
        warnings,
    })
}

/// A CI config path must name a regular file (through symlinks): anything else is refused by
/// what it is, before it is opened (a FIFO would block the read).
fn config_file_kind(p: &Path) -> crate::Result<()> {
    let err = |message: &str| Error::Config {
        what: p.display().to_string(),
        message: message.into(),
    };
    let Ok(link) = std::fs::symlink_metadata(p) else {
        return Err(err("no such CI config file"));
    };
    let Ok(meta) = std::fs::metadata(p) else {
        return Err(err("a dangling symlink, not a CI config file"));
    };
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "a directory, not a CI config file"
    } else if link.file_type().is_symlink() {
        "a symlink to something that is not a file, not a CI config file"
    } else {
        "not a regular file (a FIFO, socket or device), not a CI config file"
    };
    Err(err(what))
}

/// Parse a `.dive-ci` text into `raw`; `name` is how errors call the file.
fn apply_file(
    raw: &mut RawRules,
    text: &str,
    name: &str,
    warnings: &mut Vec<String>,
) -> crate::Result<()> {
    let cfg_err = |message: String| Error::Config {
        what: name.to_string(),
        message,
    };
    crate::analysis::leftovers::check_yaml_nesting(text).map_err(cfg_err)?;
    // an empty file (or only comments) is no document at all: defaults, as dive
    let cfg: FileConfig = if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        FileConfig::default()
    } else {
        serde_norway::from_str::<Option<FileConfig>>(text)
            .map_err(|e| cfg_err(e.to_string()))?
            .unwrap_or_default()
    };
    // dive's example config lists its plugins at the top: dive's key, not a typo
    for key in cfg.other.keys().filter(|k| *k != "plugins") {
        warnings.push(format!(
            "{name}: ignoring unknown top-level key {}",
            crate::text_fit::quoted(key)
        ));
    }
    let Some(rules) = cfg.rules else {
        return Ok(());
    };
    let from = |key: &str| format!("{name}: rules.{key}");
    let fields = [
        (CiRule::LowestEfficiency, rules.lowest_efficiency),
        (CiRule::HighestWastedBytes, rules.highest_wasted_bytes),
        (
            CiRule::HighestUserWastedPercent,
            rules.highest_user_wasted_percent,
        ),
        (CiRule::MaxTrueWaste, rules.max_true_waste),
        (CiRule::MaxImageSize, rules.max_image_size),
        (CiRule::MaxCompressedSize, rules.max_compressed_size),
        (CiRule::MaxLeftoverBytes, rules.max_leftover_bytes),
        (CiRule::ForbiddenLeftovers, rules.forbidden_leftovers),
        (CiRule::ForbiddenFindings, rules.forbidden_findings),
        (CiRule::MaxGrowth, rules.max_growth),
    ];
    for (rule, value) in fields {
        if let Some(v) = value {
            raw.set(rule, v, from(rule.key()));
        }
    }
    let lists = [
        (PathList::Ignore, rules.ignore_paths),
        (PathList::Forbid, rules.forbid_paths),
        (PathList::ForbidAnywhere, rules.forbid_paths_anywhere),
    ];
    for (list, globs) in lists {
        if let Some(globs) = globs {
            let from = from(list.key());
            raw.paths
                .insert(list, globs.into_iter().map(|g| (g, from.clone())).collect());
        }
    }
    for key in rules.other.keys() {
        // dive's example config carries plugin rules (`plugin1/rule1`): not ours to judge
        if !key.contains('/') {
            warnings.push(format!("{name}: ignoring unknown rule {key:?}"));
        }
    }
    Ok(())
}

fn validate(raw: &RawRules) -> crate::Result<CiThresholds> {
    let mut cfg = CiThresholds::default();
    for (&rule, (value, from)) in &raw.values {
        let bad = |message: String| Error::Config {
            what: from.clone(),
            message,
        };
        if is_disabled(value) {
            continue;
        }
        let text = value.clone();
        match rule {
            CiRule::LowestEfficiency => {
                cfg.lowest_efficiency = Some(Threshold::new(parse_ratio(value).map_err(bad)?, text))
            }
            CiRule::HighestUserWastedPercent => {
                cfg.highest_user_wasted_percent =
                    Some(Threshold::new(parse_ratio(value).map_err(bad)?, text))
            }
            CiRule::HighestWastedBytes => {
                cfg.highest_wasted_bytes =
                    Some(Threshold::new(parse_bytes(value).map_err(bad)?, text))
            }
            CiRule::MaxImageSize => {
                cfg.max_image_size = Some(Threshold::new(parse_bytes(value).map_err(bad)?, text))
            }
            CiRule::MaxCompressedSize => {
                cfg.max_compressed_size =
                    Some(Threshold::new(parse_bytes(value).map_err(bad)?, text))
            }
            CiRule::MaxLeftoverBytes => {
                cfg.max_leftover_bytes =
                    Some(Threshold::new(parse_bytes(value).map_err(bad)?, text))
            }
            CiRule::MaxTrueWaste => {
                cfg.max_true_waste = Some(Threshold::new(parse_limit(value).map_err(bad)?, text))
            }
            CiRule::MaxGrowth => {
                cfg.max_growth = Some(Threshold::new(parse_limit(value).map_err(bad)?, text))
            }
            CiRule::ForbiddenLeftovers => {
                cfg.forbidden_leftovers = parse_categories(value).map_err(bad)?
            }
            CiRule::ForbiddenFindings => {
                cfg.forbidden_findings = parse_checks(value).map_err(bad)?
            }
            // a rule of `bathy compare --ci` only: no flag or key of ours sets it
            CiRule::NoNewLeftovers => {}
            // glob lists, read below
            CiRule::ForbidPaths | CiRule::ForbidPathsAnywhere => {}
        }
    }
    for (&list, globs) in &raw.paths {
        // each glob checked alone first, so the error names where it came from
        for (g, from) in globs {
            PathGlobs::new(vec![g.clone()]).map_err(|message| Error::Config {
                what: from.clone(),
                message,
            })?;
        }
        let all =
            PathGlobs::new(globs.iter().map(|(g, _)| g.clone()).collect()).map_err(|message| {
                Error::Config {
                    what: list.key().to_string(),
                    message,
                }
            })?;
        match list {
            PathList::Ignore => cfg.ignore_paths = all,
            PathList::Forbid => cfg.forbid_paths = all,
            PathList::ForbidAnywhere => cfg.forbid_paths_anywhere = all,
        }
    }
    Ok(cfg)
}

/// dive's switch for turning a rule off: `disabled`, `off`, `false` or nothing, any case.
pub fn is_disabled(value: &str) -> bool {
    let v = value.trim().to_lowercase();
    v.is_empty() || v == "disabled" || v == "off" || v == "false"
}

/// Comma-separated security checks, each one `analysis::findings` knows.
pub fn parse_checks(text: &str) -> Result<Vec<Check>, String> {
    let mut out: Vec<Check> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let Some(c) = Check::from_name(name) else {
            let known: Vec<&str> = Check::ALL.iter().map(|c| c.as_str()).collect();
            return Err(format!(
                "unknown check {name:?} (known: {})",
                known.join(", ")
            ));
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Comma-separated leftover categories, each one the leftover analysis knows.
pub fn parse_categories(text: &str) -> Result<Vec<Category>, String> {
    let mut out: Vec<Category> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let Some(c) = Category::from_name(name) else {
            let known: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            return Err(format!(
                "unknown leftover category {name:?} (known: {})",
                known.join(", ")
            ));
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_take_the_one_size_grammar() {
        use crate::units::Limit;
        assert_eq!(parse_limit("5%"), Ok(Limit::Fraction(0.05)));
        assert_eq!(parse_bytes("1,000kB"), Ok(1_000_000));
    }

    #[test]
    fn disabled_values() {
        for v in [
            "", " ", "disabled", "DISABLED", "off", "Off", "false", "FALSE",
        ] {
            assert!(is_disabled(v), "{v:?}");
        }
        assert!(!is_disabled("0"));
    }

    #[test]
    fn categories_are_checked() {
        assert_eq!(
            parse_categories("compiler, package-cache,compiler"),
            Ok(vec![Category::Compiler, Category::PackageCache])
        );
        assert!(parse_categories("compilers").is_err());
    }

    fn from_file(text: &str) -> crate::Result<(CiThresholds, Vec<String>)> {
        let mut raw = RawRules::defaults();
        let mut w = Vec::new();
        apply_file(&mut raw, text, ".dive-ci", &mut w)?;
        Ok((validate(&raw)?, w))
    }

    #[test]
    fn dives_example_config_reads_as_dive_reads_it() {
        let text = "---\nplugins:\n  - plugin1\n\nrules:\n  # comment\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20Mb\n  highestUserWastedPercent: 0.5\n  plugin1/rule1: error\n";
        let (cfg, warnings) = from_file(text).expect("parses");
        assert_eq!(cfg.lowest_efficiency, Some(Threshold::new(0.95, "0.95")));
        assert_eq!(
            cfg.highest_wasted_bytes,
            Some(Threshold::new(20_000_000, "20Mb"))
        );
        assert_eq!(
            cfg.highest_user_wasted_percent,
            Some(Threshold::new(0.5, "0.5"))
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn kebab_keys_ours_and_disabling() {
        let text = "rules:\n  lowest-efficiency: off\n  highest-wasted-bytes: 1KiB\n  highest-user-wasted-percent:\n  max-true-waste: 10%\n  max-image-size: 50MB\n  max-compressed-size: 20MB\n  max-leftover-bytes: 0\n  forbidden-leftovers: [compiler, package-cache]\n  max-growth: 5%\n  max-imag-size: 1\n";
        let (cfg, warnings) = from_file(text).expect("parses");
        assert_eq!(cfg.lowest_efficiency, None);
        assert_eq!(cfg.highest_wasted_bytes.map(|t| t.value), Some(1024));
        // an empty value disables, as in dive
        assert_eq!(cfg.highest_user_wasted_percent, None);
        assert_eq!(
            cfg.max_true_waste.map(|t| t.value),
            Some(crate::units::Limit::Fraction(0.1))
        );
        assert_eq!(cfg.max_image_size.map(|t| t.value), Some(50_000_000));
        assert_eq!(cfg.max_compressed_size.map(|t| t.value), Some(20_000_000));
        assert_eq!(cfg.max_leftover_bytes.map(|t| t.value), Some(0));
        assert_eq!(
            cfg.forbidden_leftovers,
            vec![Category::Compiler, Category::PackageCache]
        );
        assert_eq!(
            cfg.max_growth.map(|t| t.value),
            Some(crate::units::Limit::Fraction(0.05))
        );
        assert_eq!(
            warnings,
            vec![".dive-ci: ignoring unknown rule \"max-imag-size\""]
        );
    }

    #[test]
    fn glob_lists_as_a_sequence_one_string_or_disabled() {
        let text = "rules:\n  ignore-paths: ['/var/cache/**', '/a/{b,c}']\n  forbid-paths: '**/.env'\n  forbid-paths-anywhere: disabled\n";
        let (cfg, warnings) = from_file(text).expect("parses");
        assert!(warnings.is_empty(), "{warnings:?}");
        // a string is one glob: the comma of `{b,c}` splits nothing
        assert_eq!(cfg.ignore_paths.globs(), ["/var/cache/**", "/a/{b,c}"]);
        assert!(cfg.ignore_paths.is_match("/a/c"));
        assert_eq!(cfg.forbid_paths.globs(), ["**/.env"]);
        assert!(cfg.forbid_paths_anywhere.is_empty());
        let e = from_file("rules:\n  forbid-paths: [etc/shadow]\n").expect_err("relative");
        assert!(
            e.to_string()
                .starts_with(".dive-ci: rules.forbid-paths: glob \"etc/shadow\""),
            "{e}"
        );
    }

    #[test]
    fn defaults_and_empty_files() {
        for text in ["", "# nothing\n", "---\n", "plugins: []\n", "rules:\n"] {
            let (cfg, _) = from_file(text).expect("parses");
            assert_eq!(
                cfg.lowest_efficiency.map(|t| t.value),
                Some(0.9),
                "{text:?}"
            );
            assert_eq!(cfg.highest_wasted_bytes, None);
            assert_eq!(cfg.highest_user_wasted_percent.map(|t| t.value), Some(0.1));
        }
    }

    #[test]
    fn bad_files_and_values_are_errors_naming_the_key() {
        let e = from_file("rules:\n  lowestEfficiency: 1.5\n").expect_err("out of range");
        assert_eq!(
            e.to_string(),
            ".dive-ci: rules.lowest-efficiency: \"1.5\" is outside the allowed range (0-1)"
        );
        assert!(from_file("rules: [1, 2]\n").is_err());
        assert!(from_file("rules:\n  lowestEfficiency: 0.9\n  lowest-efficiency: 0.8\n").is_err());
        assert!(from_file("rules: {\n").is_err());
    }

    #[test]
    fn colors_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(use_color(true, None));
        assert!(!use_color(false, None));
        assert!(!use_color(true, Some(OsStr::new("1"))));
        // no-color.org: an empty NO_COLOR does not count
        assert!(use_color(true, Some(OsStr::new(""))));
    }

    #[test]
    fn ci_mode_switch() {
        let none = CiArgs::default();
        assert!(!none.enabled(None, false));
        assert!(none.enabled(Some("true"), false));
        assert!(none.enabled(Some("1"), false));
        assert!(
            !none.enabled(Some("TRUE"), false),
            "dive reads only true, 1, yes"
        );
        // CI=true with --json keeps the JSON export
        assert!(!none.enabled(Some("true"), true));
        let off = CiArgs {
            ci: Some(false),
            ..CiArgs::default()
        };
        assert!(!off.enabled(Some("true"), false));
        let flag = CiArgs {
            max_image_size: Some("1MB".into()),
            ..CiArgs::default()
        };
        assert!(flag.enabled(None, false));
    }
}
