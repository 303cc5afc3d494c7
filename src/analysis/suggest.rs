//! The multi-stage rewrite `bathy suggest` proposes: the original build as the build stage (the
//! Dockerfile's own text, or steps reconstructed from history), then a runtime stage on the
//! smallest base the runtime closure fits, holding exactly that closure and the config that
//! starts it. Data only: `report::dockerfile_writer` writes the file.

use crate::analysis::capture::{ElfFacts, SHEBANG_TAG};
use crate::analysis::dockerfile::{Dockerfile, Stage};
use crate::analysis::fsview::FinalFs;
use crate::analysis::stages::{history_copy_from, history_kind, history_text, infer_base_boundary};
use crate::analysis::why::WhyReport;
use crate::image::{EntryKind, Image};
use crate::paths::{NodeId, ROOT};
use crate::tree::MergedTree;
use crate::units::human_bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A directory whose covered parts would take more COPY lines than this is copied whole (with
/// a comment saying what rides along): past it a file stops being readable.
pub const MAX_LINES_PER_DIR: usize = 12;
/// Below this gain (and below a tenth of the image) a rewrite is not worth its maintenance.
const MIN_GAIN_BYTES: u64 = 1_000_000;
/// Stage name for an unnamed build stage (`bathy-build` when the Dockerfile already uses it).
const BUILD_NAME: &str = "build";

/// A gain this large (and at least half the image) earns a pointer to `bathy suggest` in the
/// reports.
pub const LARGE_GAIN_BYTES: u64 = 50_000_000;

/// The reports' pointer to `bathy suggest`, when the runtime closure is a small part of a big
/// image.
pub fn pointer(e: &crate::analysis::estimates::Estimates) -> Option<String> {
    let closure = e.runtime_closure_bytes?;
    let gain = e.final_bytes.saturating_sub(closure);
    (gain >= LARGE_GAIN_BYTES && closure.saturating_mul(2) <= e.final_bytes).then(|| {
        format!(
            "a multi-stage rewrite could save {}: run `bathy suggest` (with --dockerfile) to get this Dockerfile, and --verify to check it",
            human_bytes(gain)
        )
    })
}

/// The original Dockerfile: its text (carried verbatim) and what the parser made of it.
#[derive(Clone, Debug)]
pub struct OriginalDockerfile {
    pub text: String,
    pub parsed: Dockerfile,
    /// How to name it in the file's comments (its path).
    pub name: String,
}

impl OriginalDockerfile {
    pub fn parse(text: String, name: &str) -> Result<OriginalDockerfile, String> {
        let parsed = Dockerfile::parse(&text).map_err(|m| format!("{name}: {m}"))?;
        Ok(OriginalDockerfile {
            text,
            parsed,
            name: name.to_string(),
        })
    }
}

/// What `bathy suggest` is told besides the image.
#[derive(Clone, Debug, Default)]
pub struct SuggestOptions {
    pub dockerfile: Option<OriginalDockerfile>,
    /// The Dockerfile stage that was built (default: the last).
    pub target: Option<String>,
    /// `--runtime-base`: the runtime stage's `FROM`, instead of the one the closure fits.
    pub runtime_base: Option<String>,
}

/// A rewrite, or the sentence saying why there is none.
#[derive(Clone, Debug)]
pub enum Suggestion {
    Rewrite(Box<Plan>),
    /// Already multi-stage, nothing to gain, or nothing to start from.
    Nothing(String),
}

/// The multi-stage Dockerfile, as values.
#[derive(Clone, Debug)]
pub struct Plan {
    pub build: BuildStage,
    /// The build stage's name, as `COPY --from=` gives it.
    pub build_name: String,
    pub runtime_base: String,
    /// Why that base, in words.
    pub base_reason: String,
    pub copies: Vec<CopyLine>,
    pub carried: Carried,
    /// Every assumption, the estimate's and the rewrite's, in order.
    pub assumptions: Vec<String>,
    pub program: String,
    pub final_bytes: u64,
    pub closure_bytes: u64,
}

/// The stage the runtime stage copies from.
#[derive(Clone, Debug)]
pub enum BuildStage {
    /// The original Dockerfile's text up to the end of the target stage, verbatim but for
    /// `AS <name>` added to an unnamed target `FROM`; `directives` are its leading parser
    /// directives (`# syntax=…`), which must stay first in the file.
    Original {
        name: String,
        directives: String,
        text: String,
        dropped_stages: Vec<String>,
    },
    /// Rebuilt from the image's history: `from` (None: unknown, a build arg), the steps that
    /// could be written back, and the ones that could not (as comments).
    Reconstructed {
        from: Option<String>,
        steps: Vec<Step>,
    },
}

/// One step of a reconstructed build stage.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// An instruction written back as history recorded it.
    Kept(String),
    /// An instruction history cannot give back (a COPY's sources), and why.
    Lost { text: String, why: String },
}

/// One `COPY --from=build SRC… DEST` line and why it is there.
#[derive(Clone, Debug, PartialEq)]
pub struct CopyLine {
    pub sources: Vec<String>,
    /// A directory ending in `/` for several sources, else the destination path.
    pub dest: String,
    pub why: String,
    pub bytes: u64,
    /// Written commented out: a file only some programs read (time zone data), left for the
    /// user to turn on.
    pub optional: bool,
}

/// The config the runtime stage carries over from the image.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Carried {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// `KEY=value`, in the image's order.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub expose: Vec<String>,
    pub labels: Vec<(String, String)>,
}

/// The reason a rewrite would be no better, when there is one.
fn nothing_to_gain(image: &Image, why: &WhyReport, opts: &SuggestOptions) -> Option<String> {
    let e = &why.estimates;
    let Some(closure) = e.runtime_closure_bytes else {
        let reason = e
            .assumptions
            .iter()
            .rfind(|a| a.starts_with("runtime closure"))
            .cloned()
            .unwrap_or_else(|| "runtime closure: not estimated".into());
        return Some(format!("nothing to suggest: {reason}."));
    };
    let shares = format!(
        "its runtime closure ({}) is {} of the final filesystem ({})",
        human_bytes(closure),
        share(closure, e.final_bytes),
        human_bytes(e.final_bytes)
    );
    if let Some(from) = copies_from_a_stage(image, opts) {
        return Some(format!(
            "already multi-stage: the final stage copies from `{from}` (COPY --from), so the build stays behind; {shares}."
        ));
    }
    let gain = e.final_bytes.saturating_sub(closure);
    if gain < MIN_GAIN_BYTES.max(e.final_bytes / 10) {
        return Some(format!(
            "nothing to gain: {shares}; a multi-stage rewrite would save {} at most.",
            human_bytes(gain)
        ));
    }
    None
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "all".into();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

/// The Dockerfile's chain of stages up to `--target` (`None` without a Dockerfile; `Some(None)`
/// when the target names no stage: that error is reported where the plan starts).
fn target_chain(opts: &SuggestOptions) -> Option<Option<Vec<&Stage>>> {
    let df = opts.dockerfile.as_ref()?;
    Some(df.parsed.chain(opts.target.as_deref()).ok())
}

/// The stage (or image) the final stage copies build output from: a `COPY --from` in the
/// target's chain of stages, else in the image's history.
fn copies_from_a_stage(image: &Image, opts: &SuggestOptions) -> Option<String> {
    if let Some(chain) = target_chain(opts) {
        return chain?
            .iter()
            .flat_map(|s| s.instructions.iter())
            .find_map(|i| i.from.clone());
    }
    image.config.history.iter().find_map(history_copy_from)
}

/// Plan the rewrite of `image` (analysed into `merged` and `why`).
pub fn suggest(
    image: &Image,
    merged: &MergedTree,
    why: &WhyReport,
    opts: &SuggestOptions,
) -> Suggestion {
    if let Some(sentence) = nothing_to_gain(image, why, opts) {
        return Suggestion::Nothing(sentence);
    }
    let fs = FinalFs::new(image, merged);
    let e = &why.estimates;
    let mut assumptions = e.assumptions.clone();
    let build = match &opts.dockerfile {
        Some(df) => original_stage(df, opts.target.as_deref()),
        None => reconstructed_stage(image),
    };
    let build_name = match &build {
        BuildStage::Original { name, .. } => name.clone(),
        BuildStage::Reconstructed { .. } => BUILD_NAME.to_string(),
    };
    let (runtime_base, base_reason) = runtime_base(image, why, opts, &mut assumptions);
    let copies = copy_lines(&fs, why, &mut assumptions);
    let carried = carried(image, &mut assumptions);
    assumptions.push(
        "files the program reads or writes at run time that the closure cannot see (config files, data directories, /tmp) are not copied".into(),
    );
    Suggestion::Rewrite(Box::new(Plan {
        build,
        build_name,
        runtime_base,
        base_reason,
        copies,
        carried,
        assumptions,
        program: e.program.clone().unwrap_or_default(),
        final_bytes: e.final_bytes,
        closure_bytes: e.runtime_closure_bytes.unwrap_or(0),
    }))
}

/// The Dockerfile's text up to the end of the target stage, the target's `FROM` named.
fn original_stage(df: &OriginalDockerfile, target: Option<&str>) -> BuildStage {
    let lines: Vec<&str> = df.text.lines().collect();
    let stages = &df.parsed.stages;
    let target = target
        .and_then(|t| df.parsed.stage(t))
        .or(stages.last())
        .cloned();
    let Some(target) = target else {
        // parse() refuses a Dockerfile without FROM; kept total for safety
        return BuildStage::Original {
            name: BUILD_NAME.into(),
            directives: String::new(),
            text: df.text.clone(),
            dropped_stages: Vec::new(),
        };
    };
    let end = stages
        .get(target.index + 1)
        .map(|s| s.line - 1)
        .unwrap_or(lines.len());
    let directives = lines
        .iter()
        .take_while(|l| is_directive(l))
        .count()
        .min(end);
    let from_at = target.line.saturating_sub(1);
    let taken: BTreeSet<String> = stages
        .iter()
        .filter_map(|s| s.name.as_deref().map(str::to_ascii_lowercase))
        .collect();
    let name = match &target.name {
        Some(n) => n.clone(),
        None if !taken.contains(BUILD_NAME) => BUILD_NAME.to_string(),
        None => format!("bathy-{BUILD_NAME}"),
    };
    let mut out: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate().take(end).skip(directives) {
        if i == from_at && target.name.is_none() {
            out.push(name_from_line(l, &name));
        } else {
            out.push(l.to_string());
        }
    }
    // a named FROM that spans lines keeps its text; an unnamed one is rewritten whole
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    BuildStage::Original {
        name,
        directives: lines[..directives].join("\n"),
        text: out.join("\n"),
        dropped_stages: stages[target.index + 1..]
            .iter()
            .map(|s| s.label())
            .collect(),
    }
}

/// A parser directive line (`# syntax=…`, `# escape=…`), which Docker reads only at the top.
fn is_directive(line: &str) -> bool {
    line.trim()
        .strip_prefix('#')
        .and_then(|d| d.split_once('='))
        .is_some_and(|(k, _)| {
            let k = k.trim();
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// `FROM image` → `FROM image AS name`, a trailing comment kept after it.
fn name_from_line(line: &str, name: &str) -> String {
    let trimmed = line.trim_end();
    match trimmed.strip_suffix('\\') {
        // the FROM goes on: name it at its first line, before the continuation
        Some(head) => format!("{} AS {name} \\", head.trim_end()),
        None => format!("{trimmed} AS {name}"),
    }
}

/// The build stage from history: the steps after the base image's, as they were recorded.
fn reconstructed_stage(image: &Image) -> BuildStage {
    let history = &image.config.history;
    let (boundary, _) = infer_base_boundary(history);
    let start = boundary.map(|b| b + 1).unwrap_or(0);
    let from = image
        .config
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get("org.opencontainers.image.base.name"))
        .filter(|b| is_plain_reference(b))
        .cloned();
    let steps = history[start.min(history.len())..]
        .iter()
        .filter(|h| !history_kind(h).is_empty())
        .map(|h| reconstructed_step(&history_text(h)))
        .collect();
    BuildStage::Reconstructed { from, steps }
}

fn reconstructed_step(text: &str) -> Step {
    let kind = text.split_whitespace().next().unwrap_or("").to_string();
    if text.contains('\n') || text.chars().any(|c| c.is_control()) {
        return Step::Lost {
            text: text.to_string(),
            why: "it spans lines (a heredoc), which history does not keep faithfully".into(),
        };
    }
    let legacy_source = text
        .split_whitespace()
        .any(|w| ["file:", "dir:", "multi:"].iter().any(|p| w.starts_with(p)));
    if matches!(kind.as_str(), "COPY" | "ADD") && legacy_source {
        return Step::Lost {
            text: text.to_string(),
            why: "history names its sources only by their hash: put back the build context's paths"
                .into(),
        };
    }
    if kind == "MAINTAINER" || text.starts_with('(') {
        return Step::Lost {
            text: text.to_string(),
            why: "not an instruction that can be written back".into(),
        };
    }
    Step::Kept(text.to_string())
}

/// An image reference with nothing a Dockerfile would read as more than a name.
pub fn is_plain_reference(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 255
        && r.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
}

/// The runtime stage's `FROM` and why.
fn runtime_base(
    image: &Image,
    why: &WhyReport,
    opts: &SuggestOptions,
    assumptions: &mut Vec<String>,
) -> (String, String) {
    if let Some(b) = &opts.runtime_base {
        return (b.clone(), "--runtime-base".into());
    }
    let fits = why
        .estimates
        .runtime_closure_base
        .clone()
        .unwrap_or_else(|| "slim".into());
    let program = why.estimates.program.clone().unwrap_or_default();
    match fits.as_str() {
        "scratch" => (
            "scratch".into(),
            format!("{program} is a static executable: it needs no base image"),
        ),
        "distroless/static" => (
            "gcr.io/distroless/static-debian12".into(),
            "a static executable that reads system files distroless/static has".into(),
        ),
        "distroless/base" => (
            "gcr.io/distroless/base-debian12".into(),
            format!("{program} needs only glibc (and OpenSSL), which distroless/base has"),
        ),
        "distroless/cc" => (
            "gcr.io/distroless/cc-debian12".into(),
            format!("{program} needs glibc and the C++ runtime, which distroless/cc has"),
        ),
        "alpine" => (
            "alpine:3".into(),
            format!("{program} is linked against musl, as alpine is"),
        ),
        _ => {
            let base = build_base(image, opts);
            let slim = base.as_deref().and_then(slim_variant);
            let (image_name, how) = match (base, slim) {
                (Some(b), Some(s)) if s == b => (s, "the build's base is already slim".to_string()),
                (Some(b), Some(s)) => {
                    assumptions.push(format!(
                        "base: {b} has a slim variant named {s}; check that it exists"
                    ));
                    (s, format!("the slim variant of the build's base {b}"))
                }
                _ => {
                    assumptions.push("base: the build's base is not known; debian:bookworm-slim is a guess (--runtime-base sets it)".into());
                    ("debian:bookworm-slim".into(), "a slim Debian".to_string())
                }
            };
            (
                image_name,
                format!("{how}: the closure needs libraries or a runtime beyond a static base"),
            )
        }
    }
}

/// The base the build starts from: the target chain's root `FROM`, else the base-name label.
fn build_base(image: &Image, opts: &SuggestOptions) -> Option<String> {
    if let Some(chain) = target_chain(opts) {
        return chain?
            .first()
            .map(|s| s.from.clone())
            .filter(|b| is_plain_reference(b) && b != "scratch");
    }
    image
        .config
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get("org.opencontainers.image.base.name"))
        .filter(|b| is_plain_reference(b))
        .cloned()
}

/// `debian:bookworm` → `debian:bookworm-slim`, `python:3.12` → `python:3.12-slim`; a slim tag
/// stays; a digest has none.
pub fn slim_variant(base: &str) -> Option<String> {
    if base.contains('@') {
        return None;
    }
    let (name, tag) = match base.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t)),
        _ => (base, None),
    };
    match tag {
        Some(t) if t.contains("slim") => Some(base.to_string()),
        Some(t) => Some(format!("{name}:{t}-slim")),
        None => Some(format!("{name}:slim")),
    }
}

/// What a closure path is there for; also the order of the COPY lines (what changes least
/// first, so a rebuild reuses the layers below the app).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Interpreter,
    Library,
    Runtime,
    System,
    Named,
    Dependencies,
    App,
    Program,
}

impl Role {
    fn why(self) -> &'static str {
        match self {
            Role::Interpreter => {
                "the interpreter the program names (ELF PT_INTERP, or a script's #!)"
            }
            Role::Library => "shared libraries loaded at start (DT_NEEDED, transitively)",
            Role::Runtime => "the language runtime and its standard library",
            Role::System => "system files programs commonly read (CA bundle, time zones, users)",
            Role::Named => "files the config's ENV names (a program reads them at start)",
            Role::Dependencies => "the app's production dependencies",
            Role::App => "the app itself (without its leftovers)",
            Role::Program => "the program the image starts",
        }
    }
}

/// One path to copy: what it is for and its bytes.
struct Item {
    path: String,
    role: Role,
    bytes: u64,
    dir: bool,
    /// The regular file a file item is (None for a symlink copied as its target).
    file: Option<NodeId>,
    /// The file a symlink item points to.
    target: Option<NodeId>,
}

/// The closure as COPY lines: whole directories where all of one is in it, files grouped by
/// their directory, symlinks copied as what they point to (COPY follows a source symlink).
fn copy_lines(fs: &FinalFs, why: &WhyReport, assumptions: &mut Vec<String>) -> Vec<CopyLine> {
    let closure: HashSet<NodeId> = why.estimates.closure_nodes.iter().copied().collect();
    let ctx = RoleContext::new(fs, why);
    let mut items = Vec::new();
    let mut cover = Cover::new(fs, &closure);
    cover.collect(ROOT, &mut items, assumptions, &ctx);
    items.extend(entry_paths(fs, why, &ctx));
    let named = env_files(fs, &items);
    if !named.is_empty() {
        assumptions.push(format!(
            "copied because the config's ENV names them: {}",
            named
                .iter()
                .map(|i| i.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    items.extend(named);
    drop_link_targets(fs, &mut items);
    let mut unspellable = Vec::new();
    items.retain(|i| {
        let ok = dockerfile_safe(&i.path);
        if !ok {
            unspellable.push(crate::text_fit::escape_controls(&i.path).to_string());
        }
        ok
    });
    if !unspellable.is_empty() {
        assumptions.push(format!(
            "not copied, as a Dockerfile cannot name them: {}",
            unspellable.join(", ")
        ));
    }
    group(items)
}

/// Where roles come from: the program, the ELF interpreters, the app directory.
struct RoleContext {
    program: Option<String>,
    interpreters: BTreeSet<String>,
    app_dir: Option<String>,
}

impl RoleContext {
    fn new(fs: &FinalFs, why: &WhyReport) -> RoleContext {
        // ELF interpreters and scripts' `#!` interpreters: the paths they are named by
        let mut interpreters = BTreeSet::new();
        for &n in &why.estimates.closure_nodes {
            let Some(c) = fs.captured(n) else { continue };
            if let Some(i) = ElfFacts::decode(c).and_then(|f| f.interp) {
                interpreters.insert(i);
            } else if let Some(line) = c.strip_prefix(SHEBANG_TAG) {
                let line = String::from_utf8_lossy(line).to_string();
                if let Some(w) = line
                    .split_whitespace()
                    .next()
                    .filter(|w| w.starts_with('/'))
                {
                    interpreters.insert(w.to_string());
                }
            }
        }
        let app_dir = fs
            .image
            .config
            .config
            .as_ref()
            .and_then(|c| c.working_dir.clone())
            .filter(|w| w.starts_with('/') && w != "/");
        RoleContext {
            program: why.estimates.program.clone(),
            interpreters,
            app_dir,
        }
    }

    fn role(&self, path: &str, fs: &FinalFs, node: Option<NodeId>) -> Role {
        let under =
            |d: &str| path == d || path.starts_with(&format!("{}/", d.trim_end_matches('/')));
        if self.program.as_deref() == Some(path) {
            let name = path.rsplit('/').next().unwrap_or("");
            let runtime = ["node", "nodejs", "java"].contains(&name) || name.starts_with("python");
            return if runtime {
                Role::Runtime
            } else {
                Role::Program
            };
        }
        if self.interpreters.contains(path) {
            return Role::Interpreter;
        }
        if path.contains("/node_modules/")
            || path.ends_with("/node_modules")
            || path.contains("/site-packages")
        {
            return Role::Dependencies;
        }
        if self.app_dir.as_deref().is_some_and(under) {
            return Role::App;
        }
        if path.starts_with("/etc/") || path.starts_with("/usr/share/zoneinfo") {
            return Role::System;
        }
        let elf = node
            .and_then(|n| fs.captured(n))
            .is_some_and(|c| ElfFacts::decode(c).is_some());
        let name = path.rsplit('/').next().unwrap_or("");
        if elf && (name.contains(".so") || path.contains("/lib")) {
            return Role::Library;
        }
        Role::Runtime
    }
}

/// Which directories hold only closure files (those are copied whole).
struct Cover<'f, 'a> {
    fs: &'f FinalFs<'a>,
    closure: &'f HashSet<NodeId>,
    /// Closure entries (not directories) under each directory.
    covered: HashMap<NodeId, usize>,
}

impl<'f, 'a> Cover<'f, 'a> {
    fn new(fs: &'f FinalFs<'a>, closure: &'f HashSet<NodeId>) -> Cover<'f, 'a> {
        let mut covered: HashMap<NodeId, usize> = HashMap::new();
        for &n in closure {
            if fs.is_dir(n) {
                continue;
            }
            let mut p = fs.image.paths.parent(n);
            while let Some(d) = p {
                *covered.entry(d).or_default() += 1;
                p = fs.image.paths.parent(d);
            }
        }
        Cover {
            fs,
            closure,
            covered,
        }
    }

    /// Present entries (not directories) under `dir`, and how many of them are symlinks.
    fn total(&self, dir: NodeId) -> (usize, usize) {
        let (mut n, mut links) = (0, 0);
        self.fs.walk(dir, |c| {
            if !self.fs.is_dir(c) {
                n += 1;
                links += usize::from(is_symlink(self.fs, c));
            }
        });
        (n, links)
    }

    fn collect(
        &mut self,
        dir: NodeId,
        out: &mut Vec<Item>,
        assumptions: &mut Vec<String>,
        ctx: &RoleContext,
    ) {
        let fs = self.fs;
        let mut kids: Vec<NodeId> = fs.image.paths.children(dir).to_vec();
        kids.sort_by_key(|&k| fs.image.paths.name(k).to_string());
        let mut mine = Vec::new();
        for k in kids {
            if !fs.present(k) {
                continue;
            }
            let path = fs.image.paths.path(k);
            if fs.is_dir(k) {
                let c = self.covered.get(&k).copied().unwrap_or(0);
                if c == 0 {
                    continue;
                }
                let (total, links) = self.total(k);
                // whole, unless it is one file, only symlinks (copied as their targets), or a
                // directory the runtime base has too (COPY would write over all of it)
                if c == total && total >= 2 && links < total && !shared_dir(&path) {
                    mine.push(Item {
                        role: ctx.role(&path, fs, None),
                        bytes: subtree_bytes(fs, k),
                        path,
                        dir: true,
                        file: None,
                        target: None,
                    });
                } else {
                    self.collect(k, &mut mine, assumptions, ctx);
                }
            } else if self.closure.contains(&k) {
                self.file_item(k, path, &mut mine, ctx);
            }
        }
        let lines = mine
            .iter()
            .map(|i| {
                if i.dir {
                    i.path.clone()
                } else {
                    parent_of(&i.path)
                }
            })
            .collect::<BTreeSet<_>>()
            .len();
        let depth = fs.image.paths.path(dir).matches('/').count();
        if lines > MAX_LINES_PER_DIR && dir != ROOT && depth >= 2 {
            let path = fs.image.paths.path(dir);
            let all = subtree_bytes(fs, dir);
            let needed: u64 = mine.iter().map(|i| i.bytes).sum();
            assumptions.push(format!(
                "{path} is copied whole ({} more than the closure needs from it) rather than in {lines} COPY lines",
                human_bytes(all.saturating_sub(needed))
            ));
            out.push(Item {
                role: ctx.role(&path, fs, None),
                path,
                bytes: all,
                dir: true,
                file: None,
                target: None,
            });
        } else {
            out.extend(mine);
        }
    }

    /// A file, or a symlink to one (copied as the file it points to); a symlink to a directory
    /// is left out (the base has it, or the paths reached through it are copied themselves).
    fn file_item(&self, k: NodeId, path: String, out: &mut Vec<Item>, ctx: &RoleContext) {
        let fs = self.fs;
        if is_symlink(fs, k) {
            match fs.resolve(&path, true) {
                Some((t, _)) if !fs.is_dir(t) => out.push(Item {
                    role: ctx.role(&path, fs, Some(t)),
                    bytes: fs.file_bytes(t),
                    path,
                    dir: false,
                    file: None,
                    target: Some(t),
                }),
                _ => {}
            }
            return;
        }
        out.push(Item {
            role: ctx.role(&path, fs, Some(k)),
            bytes: fs.file_bytes(k),
            path,
            dir: false,
            file: Some(k),
            target: None,
        });
    }
}

/// Paths the program is started by that go through a symlinked directory (`/bin/sh` with
/// `/bin -> usr/bin`, the ELF interpreter in `/lib64`): the closure holds the link and the
/// file behind it, and a base without that link (scratch) needs the path itself.
fn entry_paths(fs: &FinalFs, why: &WhyReport, ctx: &RoleContext) -> Vec<Item> {
    let cfg = fs.image.config.config.clone().unwrap_or_default();
    let argv0 = cfg
        .entrypoint
        .unwrap_or_default()
        .into_iter()
        .chain(cfg.cmd.unwrap_or_default())
        .next()
        .filter(|a| a.starts_with('/'));
    let mut out = Vec::new();
    let wanted = ctx
        .interpreters
        .iter()
        .map(|i| (i.clone(), Role::Interpreter))
        .chain(argv0.map(|a| (a, Role::Program)));
    for (path, role) in wanted {
        let stored = fs.node(&path).filter(|&n| fs.present(n));
        if stored.is_some() {
            continue;
        }
        let Some((t, _)) = fs.resolve(&path, true) else {
            continue;
        };
        if fs.is_dir(t) || !why.estimates.closure_nodes.contains(&t) {
            continue;
        }
        out.push(Item {
            path,
            role,
            bytes: fs.file_bytes(t),
            dir: false,
            file: None,
            target: Some(t),
        });
    }
    out
}

/// A file that a symlink item already brings (COPY follows a source symlink) is not copied
/// again at its own path, unless a symlink kept inside a copied directory points to it.
fn drop_link_targets(fs: &FinalFs, items: &mut Vec<Item>) {
    let through_links: HashSet<NodeId> = items.iter().filter_map(|i| i.target).collect();
    let mut kept = HashSet::new();
    for i in items.iter().filter(|i| i.dir) {
        let Some(d) = fs.node(&i.path) else { continue };
        fs.walk(d, |c| {
            if is_symlink(fs, c) {
                if let Some((t, _)) = fs.resolve(&fs.image.paths.path(c), true) {
                    kept.insert(t);
                }
            }
        });
    }
    items.retain(|i| match i.file {
        Some(f) => !through_links.contains(&f) || kept.contains(&f),
        None => true,
    });
}

/// Regular files the config's ENV values name (`NODE_EXTRA_CA_CERTS=/etc/ssl/x.pem`, each
/// part of a `:` list) that no item copies yet: a program told of a file expects it.
fn env_files(fs: &FinalFs, items: &[Item]) -> Vec<Item> {
    let cfg = fs.image.config.config.clone().unwrap_or_default();
    let covered = |p: &str| {
        items
            .iter()
            .any(|i| i.path == p || (i.dir && p.starts_with(&format!("{}/", i.path))))
    };
    let mut out: Vec<Item> = Vec::new();
    for kv in cfg.env.unwrap_or_default() {
        let Some((_, v)) = kv.split_once('=') else {
            continue;
        };
        for p in v.split(':').filter(|p| p.starts_with('/') && p.len() > 1) {
            let Some((t, _)) = fs.resolve(p, true) else {
                continue;
            };
            let is_file = matches!(fs.entry(t), Some((_, e)) if e.kind == EntryKind::File);
            if !is_file || covered(p) || out.iter().any(|i| i.path == p) {
                continue;
            }
            let stored = fs.node(p).filter(|&n| n == t);
            out.push(Item {
                path: p.to_string(),
                role: Role::Named,
                bytes: fs.file_bytes(t),
                dir: false,
                file: stored,
                target: stored.is_none().then_some(t),
            });
        }
    }
    out
}

fn is_symlink(fs: &FinalFs, n: NodeId) -> bool {
    matches!(fs.entry(n), Some((_, e)) if e.kind == EntryKind::Symlink)
}

fn subtree_bytes(fs: &FinalFs, dir: NodeId) -> u64 {
    let mut b = 0;
    fs.walk(dir, |c| b += fs.file_bytes(c));
    b
}

/// Top-level directories of the filesystem hierarchy: never copied whole.
const FHS_TOP: [&str; 19] = [
    "bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media", "mnt", "proc",
    "root", "run", "sbin", "srv", "sys", "usr", "var",
];

/// A directory a base image shares (`/usr/lib`, `/etc/ssl`, `/lib/x86_64-linux-gnu`), which a
/// COPY writes files into rather than replacing as a whole.
fn shared_dir(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [] => true,
        [top] => FHS_TOP.contains(top),
        [top, _] => FHS_TOP.contains(top) && *top != "home" && *top != "srv",
        ["usr", "local", _] => true,
        ["usr", lib, arch] | [lib, arch, ..]
            if lib.starts_with("lib") && arch.contains("-linux-") =>
        {
            true
        }
        _ => false,
    }
}

fn parent_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.to_string(),
    }
}

/// A path a Dockerfile can name in COPY as it is: no control characters, no `$` (variable
/// substitution), no glob characters, no quote or backslash.
pub fn dockerfile_safe(path: &str) -> bool {
    path.starts_with('/')
        && !path
            .chars()
            .any(|c| c.is_control() || "$*?[]\\\"'`".contains(c))
}

const ZONEINFO: &str = "/usr/share/zoneinfo";
const OPTIONAL_WHY: &str = "time zone data, for programs that load zones by name (Go: or build with -tags timetzdata); uncomment if yours does";

/// Time zone data: in the closure because programs may read it, but most run in UTC, and it
/// is the bulk of a static program's closure, so its line is offered commented out.
fn is_optional(path: &str) -> bool {
    path == ZONEINFO
}

/// What system files are for, by name.
fn system_why(items: &[Item]) -> String {
    let mut whys: Vec<&str> = items
        .iter()
        .map(|i| {
            let name = i.path.rsplit('/').next().unwrap_or("");
            match name {
                "passwd" | "group" | "shadow" | "nsswitch.conf" => {
                    "users and groups, for USER and user lookups"
                }
                _ if name.ends_with(".crt") || name.ends_with(".pem") => "the CA bundle, for TLS",
                _ => Role::System.why(),
            }
        })
        .collect();
    whys.dedup();
    whys.join("; ")
}

/// Items as COPY lines: a directory on its own line; files by role and destination directory.
fn group(items: Vec<Item>) -> Vec<CopyLine> {
    let mut files: BTreeMap<(Role, String), Vec<Item>> = BTreeMap::new();
    let mut lines: Vec<(Role, CopyLine)> = Vec::new();
    for i in items {
        if i.dir {
            lines.push((
                i.role,
                CopyLine {
                    optional: is_optional(&i.path),
                    why: if is_optional(&i.path) {
                        OPTIONAL_WHY.into()
                    } else {
                        i.role.why().into()
                    },
                    dest: i.path.clone(),
                    sources: vec![i.path],
                    bytes: i.bytes,
                },
            ));
        } else {
            files
                .entry((i.role, parent_of(&i.path)))
                .or_default()
                .push(i);
        }
    }
    for ((role, dir), group) in files {
        let why = match role {
            Role::System => system_why(&group),
            r => r.why().to_string(),
        };
        let dest = if group.len() == 1 {
            group[0].path.clone()
        } else {
            format!("{}/", dir.trim_end_matches('/'))
        };
        lines.push((
            role,
            CopyLine {
                dest,
                bytes: group.iter().map(|i| i.bytes).sum(),
                sources: group.into_iter().map(|i| i.path).collect(),
                why,
                optional: false,
            },
        ));
    }
    lines.sort_by(|a, b| (a.0, &a.1.dest).cmp(&(b.0, &b.1.dest)));
    lines.into_iter().map(|(_, l)| l).collect()
}

/// The image's config that the runtime stage carries over; values a Dockerfile cannot hold
/// on one line are left out, with an assumption saying so.
fn carried(image: &Image, assumptions: &mut Vec<String>) -> Carried {
    let cfg = image.config.config.clone().unwrap_or_default();
    let one_line = |v: &str| !v.chars().any(|c| c.is_control());
    let mut left_out: Vec<&str> = Vec::new();
    let mut argv = |what: &'static str, v: Option<Vec<String>>| {
        let v = v?;
        if v.iter().all(|x| one_line(x)) {
            Some(v)
        } else {
            left_out.push(what);
            None
        }
    };
    let entrypoint = argv("ENTRYPOINT", cfg.entrypoint);
    let cmd = argv("CMD", cfg.cmd);
    let mut env = Vec::new();
    for kv in cfg.env.unwrap_or_default() {
        if !kv.contains('=') {
            continue;
        }
        if one_line(&kv) {
            env.push(kv);
        } else {
            left_out.push("ENV");
        }
    }
    let mut single = |what: &'static str, v: Option<String>| {
        let v = v.filter(|v| !v.is_empty())?;
        if one_line(&v) {
            Some(v)
        } else {
            left_out.push(what);
            None
        }
    };
    let workdir = single("WORKDIR", cfg.working_dir).filter(|w| w != "/");
    let user = single("USER", cfg.user);
    let mut expose = Vec::new();
    for p in cfg.exposed_ports.unwrap_or_default().into_keys() {
        if p.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '-')
        {
            expose.push(p);
        } else {
            left_out.push("EXPOSE");
        }
    }
    let mut labels = Vec::new();
    for (k, v) in cfg.labels.unwrap_or_default() {
        if one_line(&k) && one_line(&v) {
            labels.push((k, v));
        } else {
            left_out.push("LABEL");
        }
    }
    left_out.dedup();
    if !left_out.is_empty() {
        assumptions.push(format!(
            "not carried over, as their values hold control characters: {}",
            left_out.join(", ")
        ));
    }
    Carried {
        entrypoint,
        cmd,
        env,
        workdir,
        user,
        expose,
        labels,
    }
}
