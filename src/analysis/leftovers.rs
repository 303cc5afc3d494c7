//! Build-tool leftovers: files of the final filesystem a multi-stage build would have left in
//! its build stage (toolchains, dev files, caches, devDependencies, sources, VCS, docs).
//! The rules are data (`assets/leftover-rules.yaml`, plus `--rules FILE`).

use crate::analysis::fsview::{heaviest_layer, FinalFs};
use crate::analysis::packages::{npm_apps, npm_production_closure, Manager, Package};
use crate::error::{Error, Result};
use crate::image::{EntryKind, Image};

use crate::paths::NodeId;
use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The built-in rules, shipped in the binary.
pub const BUILTIN_RULES: &str = include_str!("../../assets/leftover-rules.yaml");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Compiler,
    /// Runtime libraries and tools that only build tools need (perl and libcurl for git,
    /// libisl for gcc): not build tools themselves, but they leave with them.
    BuildDeps,
    DevFiles,
    PackageCache,
    DevDependency,
    Source,
    Vcs,
    Docs,
}

impl Category {
    /// Every category, in declaration order (the `all_categories_listed` test keeps it whole).
    pub const ALL: [Category; 8] = [
        Category::Compiler,
        Category::BuildDeps,
        Category::DevFiles,
        Category::PackageCache,
        Category::DevDependency,
        Category::Source,
        Category::Vcs,
        Category::Docs,
    ];

    /// The category written `name` (`package-cache`), as in rules files and reports.
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Compiler => "compiler",
            Category::BuildDeps => "build-deps",
            Category::DevFiles => "dev-files",
            Category::PackageCache => "package-cache",
            Category::DevDependency => "dev-dependency",
            Category::Source => "source",
            Category::Vcs => "vcs",
            Category::Docs => "docs",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
    Info,
}

/// One rule as written in the rules file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub category: Category,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub packages: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub explanation: String,
    #[serde(default)]
    pub advice: String,
}

fn default_severity() -> Severity {
    Severity::Medium
}

/// Package-name globs that count as build tools, per manager.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildTools {
    #[serde(default)]
    pub dpkg: Vec<String>,
    #[serde(default)]
    pub apk: Vec<String>,
    #[serde(default)]
    pub python: Vec<String>,
    #[serde(default)]
    pub npm: Vec<String>,
}

/// A rules file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSet {
    #[serde(default)]
    pub build_tools: BuildTools,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// The deepest nesting a YAML input of ours (`--rules`, `.dive-ci`) may have: theirs is 3 or 4.
pub const MAX_YAML_NESTING: usize = 64;

/// Refuse YAML nested deeper than [`MAX_YAML_NESTING`] before a parser sees it: the parser
/// spends seconds per 100,000 levels before its own recursion limit stops it. A conservative
/// scan: flow brackets outside quotes and comments, block sequences (`- - -`) on one line, and
/// indentation (a level costs at least a column).
pub fn check_yaml_nesting(text: &str) -> std::result::Result<(), String> {
    let too_deep = |line: usize| {
        Err(format!(
            "line {}: nested more than {MAX_YAML_NESTING} levels deep",
            line + 1
        ))
    };
    let mut flow = 0usize;
    for (ln, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        let mut block = (line.len() - body.len()) / 2;
        let mut rest = body;
        while let Some(r) = rest.strip_prefix('-') {
            if !(r.is_empty() || r.starts_with(' ')) {
                break;
            }
            block += 1;
            rest = r.trim_start_matches(' ');
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut escaped = false;
        for c in rest.chars() {
            match (quote, c) {
                (Some('"'), '\\') if !escaped => escaped = true,
                (Some(q), c) => {
                    if c == q && !escaped {
                        quote = None;
                    }
                    escaped = false;
                }
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if prev == ' ' => break,
                (None, '[' | '{') => flow += 1,
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            prev = c;
            if flow + block > MAX_YAML_NESTING {
                return too_deep(ln);
            }
        }
        if flow + block > MAX_YAML_NESTING {
            return too_deep(ln);
        }
    }
    Ok(())
}

impl RuleSet {
    pub fn builtin() -> RuleSet {
        // the built-in file is tested; a broken one is a build defect, not input
        serde_norway::from_str(BUILTIN_RULES).unwrap_or_default()
    }

    /// A rules file's text; every glob must compile (`origin` names the file in errors).
    pub fn parse(text: &str, origin: &str) -> Result<RuleSet> {
        check_yaml_nesting(text).map_err(|e| Error::Usage(format!("{origin}: {e}")))?;
        let set: RuleSet = serde_norway::from_str(text)
            .map_err(|e| Error::Usage(format!("{origin}: bad rules file: {e}")))?;
        set.check(origin)?;
        Ok(set)
    }

    /// Compile every glob once, so a broken one is reported instead of never matching.
    fn check(&self, origin: &str) -> Result<()> {
        let bad = |rule: &str, glob: &str, e: regex::Error| Error::LeftoverRule {
            file: origin.to_string(),
            rule: rule.to_string(),
            message: format!("glob `{glob}` does not compile: {}", regex_reason(&e)),
        };
        for r in &self.rules {
            for g in &r.paths {
                let (src, _) = compile_pattern(&g.replace("{workdir}", "/app"));
                Regex::new(&src).map_err(|e| bad(&r.id, g, e))?;
            }
            for g in r.exclude.iter().chain(&r.packages) {
                name_regex(g.strip_prefix('!').unwrap_or(g)).map_err(|e| bad(&r.id, g, e))?;
            }
        }
        let b = &self.build_tools;
        for g in b.dpkg.iter().chain(&b.apk).chain(&b.python).chain(&b.npm) {
            name_regex(g.strip_prefix('!').unwrap_or(g)).map_err(|e| bad("buildTools", g, e))?;
        }
        Ok(())
    }

    pub fn load(path: &Path) -> Result<RuleSet> {
        let text = crate::small_file::read_capped_text(path, crate::small_file::MAX_TEXT)?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The user's rules over these: same id replaces, new ids go first; build tools add up.
    pub fn with_overrides(mut self, user: RuleSet) -> RuleSet {
        let mut front = Vec::new();
        for r in user.rules {
            if let Some(slot) = self.rules.iter_mut().find(|x| x.id == r.id) {
                *slot = r;
            } else {
                front.push(r);
            }
        }
        front.append(&mut self.rules);
        self.rules = front;
        let b = &mut self.build_tools;
        b.dpkg.extend(user.build_tools.dpkg);
        b.apk.extend(user.build_tools.apk);
        b.python.extend(user.build_tools.python);
        b.npm.extend(user.build_tools.npm);
        self
    }

    /// Is this package a build tool by name?
    pub fn is_build_tool(&self, manager: Manager, name: &str) -> bool {
        let list = match manager {
            Manager::Dpkg => &self.build_tools.dpkg,
            Manager::Apk => &self.build_tools.apk,
            Manager::Python => &self.build_tools.python,
            Manager::Npm => &self.build_tools.npm,
        };
        names_match(list, name)
    }
}

/// A glob on absolute paths as a regex source: `*` within a name, `**` any depth, `?`, `{a,b}`.
pub fn glob_to_regex(glob: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    let mut in_brace = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    out.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    out.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '{' => {
                in_brace = true;
                out.push_str("(?:");
            }
            '}' if in_brace => {
                in_brace = false;
                out.push(')');
            }
            ',' if in_brace => out.push('|'),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    out
}

/// Compiled name globs, shared: every package is matched against every rule's globs, and
/// compiling a regex costs far more than matching one (this was most of `WhyReport::run`).
fn name_glob(g: &str) -> Option<Regex> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<HashMap<String, Option<Regex>>>> =
        std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(map) = cache.lock() {
        if let Some(re) = map.get(g) {
            return re.clone();
        }
    }
    let re = name_regex(g).ok();
    if let Ok(mut map) = cache.lock() {
        map.insert(g.to_string(), re.clone());
    }
    re
}

/// A whole-name glob as a regex.
fn name_regex(glob: &str) -> std::result::Result<Regex, regex::Error> {
    Regex::new(&format!("^{}$", glob_to_regex(glob)))
}

/// A regex error in one line: its last line says what is wrong (the others quote the pattern).
fn regex_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("syntax error")
            .trim()
            .trim_start_matches("error: ")
            .to_string(),
        regex::Error::CompiledTooBig(n) => format!("compiles to more than {n} bytes"),
        other => other.to_string().replace('\n', " "),
    }
}

/// Does a list of name globs take `name`? Entries starting with `!` take it back out.
pub fn names_match(list: &[String], name: &str) -> bool {
    let hit = |g: &str| name_glob(g).is_some_and(|re| re.is_match(name));
    list.iter().any(|g| !g.starts_with('!') && hit(g))
        && !list.iter().any(|g| g.strip_prefix('!').is_some_and(hit))
}

/// A rule's path pattern, compiled: the group root is the part before a trailing `/**`.
struct Pattern {
    rule: usize,
    re: Regex,
    subtree: bool,
}

/// A path glob as a regex source whose group 1 is the group root; whether it is a subtree.
fn compile_pattern(glob: &str) -> (String, bool) {
    if let Some(prefix) = glob.strip_suffix("/**") {
        (format!("^({})(?:/.*)?$", glob_to_regex(prefix)), true)
    } else {
        (format!("^({})$", glob_to_regex(glob)), false)
    }
}

/// Which patterns match a path: one `RegexSet` pass, or (a set too big to build even with the
/// raised limit) each pattern in turn; never none because the set failed.
enum PathMatcher {
    Set(RegexSet),
    Each,
}

/// Room for many long user globs: `[^/]` is a large Unicode class, and the default 10 MB limit
/// was exceeded by ~50 globs of a few hundred characters.
const SET_SIZE_LIMIT: usize = 256 << 20;

impl PathMatcher {
    fn new(sources: &[String]) -> PathMatcher {
        regex::RegexSetBuilder::new(sources)
            .size_limit(SET_SIZE_LIMIT)
            .dfa_size_limit(SET_SIZE_LIMIT)
            .build()
            .map(PathMatcher::Set)
            .unwrap_or(PathMatcher::Each)
    }

    fn matches(&self, patterns: &[Pattern], path: &str) -> Vec<usize> {
        match self {
            PathMatcher::Set(set) => set.matches(path).into_iter().collect(),
            PathMatcher::Each => (0..patterns.len())
                .filter(|&i| patterns[i].re.is_match(path))
                .collect(),
        }
    }
}

/// Every rule's path patterns compiled, with its exclusions.
struct PathRules {
    patterns: Vec<Pattern>,
    matcher: PathMatcher,
    /// Per rule: exclusion globs (matched as whole paths).
    excludes: Vec<Vec<Regex>>,
}

impl PathRules {
    /// `{workdir}` patterns only apply when the image has a working directory (`workdir` is
    /// given escaped, as a regex source). Globs that do
    /// not compile were refused when their file was read ([`RuleSet::parse`]).
    fn new(rules: &RuleSet, workdir: Option<&str>) -> PathRules {
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        let mut excludes = Vec::new();
        for (ri, r) in rules.rules.iter().enumerate() {
            for g in &r.paths {
                // the directory goes in after the glob became a regex, already escaped
                // (`workdir` is a regex source): a literal path, never glob syntax
                let (src, subtree) = match (g.contains("{workdir}"), workdir) {
                    (false, _) => compile_pattern(g),
                    (true, Some(w)) => {
                        let marked = g.replace("{workdir}", &WORKDIR_MARK.to_string());
                        let (src, subtree) = compile_pattern(&marked);
                        (src.replace(WORKDIR_MARK, w), subtree)
                    }
                    (true, None) => continue,
                };
                let Ok(re) = Regex::new(&src) else { continue };
                sources.push(src);
                patterns.push(Pattern {
                    rule: ri,
                    re,
                    subtree,
                });
            }
            excludes.push(
                r.exclude
                    .iter()
                    .filter_map(|g| name_regex(g).ok())
                    .collect(),
            );
        }
        PathRules {
            matcher: PathMatcher::new(&sources),
            patterns,
            excludes,
        }
    }

    /// The first rule's pattern that takes `path` and whose rule does not exclude it.
    fn first_match(&self, path: &str) -> Option<&Pattern> {
        self.matcher
            .matches(&self.patterns, path)
            .into_iter()
            .map(|pi| &self.patterns[pi])
            .filter(|p| !self.excludes[p.rule].iter().any(|x| x.is_match(path)))
            .min_by_key(|p| p.rule)
    }
}

/// One finding: files of one rule under one root (or of one package).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Leftover {
    pub category: Category,
    pub rule: String,
    pub severity: Severity,
    /// The directory (or file) the finding is about.
    pub path: String,
    /// The package that owns the files, when the rule matched by package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    pub bytes: u64,
    pub files: u64,
    /// The layer holding most of its bytes, and its command.
    pub layer: Option<usize>,
    pub command: String,
    pub explanation: String,
    pub advice: String,
    /// The node of `path`, for jumping to it.
    #[serde(skip)]
    pub node: Option<NodeId>,
    /// Every final file counted.
    #[serde(skip)]
    pub nodes: Vec<NodeId>,
}

/// Config paths (WorkingDir, the entry point) longer than this (Linux's PATH_MAX) are not
/// paths a container can use: they fill no pattern or advice, so a 30 MB WorkingDir costs
/// nothing.
pub const MAX_CONFIG_PATH: usize = 4096;

/// Stands for `{workdir}` while a glob becomes a regex, then for the escaped directory: the
/// directory is a literal path, never glob or regex syntax.
const WORKDIR_MARK: char = '\u{E000}';

/// What the advice templates fill in.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub workdir: Option<String>,
    pub entrypoint: Option<String>,
}

fn fill(advice: &str, ctx: &Context) -> String {
    advice
        .replace(
            "{entrypoint}",
            ctx.entrypoint.as_deref().unwrap_or("the program"),
        )
        .replace(
            "{workdir}",
            ctx.workdir.as_deref().unwrap_or("the app directory"),
        )
}

/// The deepest directory holding every path.
fn common_dir(paths: &[String]) -> String {
    let Some(first) = paths.first() else {
        return "/".to_string();
    };
    let mut common: Vec<&str> = first.split('/').collect();
    common.pop();
    for p in &paths[1..] {
        let comps: Vec<&str> = p.split('/').collect();
        let n = common
            .iter()
            .zip(&comps)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(n.min(comps.len().saturating_sub(1)));
    }
    let s = common.join("/");
    if s.is_empty() {
        "/".to_string()
    } else {
        s
    }
}

#[derive(Default)]
struct Group {
    nodes: Vec<NodeId>,
    paths: Vec<String>,
    root: Option<String>,
    package: Option<String>,
}

/// Find the leftovers of the final filesystem. `packages` come from `packages::collect`.
pub fn find(fs: &FinalFs, rules: &RuleSet, packages: &[Package], ctx: &Context) -> Vec<Leftover> {
    let workdir = ctx
        .workdir
        .as_deref()
        .filter(|w| *w != "/" && !w.is_empty() && w.len() <= MAX_CONFIG_PATH)
        .map(|w| regex::escape(w.trim_end_matches('/')));
    let paths = PathRules::new(rules, workdir.as_deref());
    let (groups, mut claimed) = group_files(fs, rules, &paths, packages);
    let mut out: Vec<Leftover> = groups
        .into_iter()
        .map(|((ri, _), g)| {
            let r = &rules.rules[ri];
            let path = g.root.clone().unwrap_or_else(|| common_dir(&g.paths));
            finding(
                fs,
                r.category,
                &r.id,
                r.severity,
                path,
                g.package,
                g.nodes,
                &r.explanation,
                &fill(&r.advice, ctx),
            )
        })
        .collect();
    out.extend(build_tool_dependencies(fs, packages, &mut claimed));
    out.extend(dev_dependencies(fs, packages, &claimed, ctx));
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    out
}

/// Each final file under the first rule that takes it, by path or by its package; the groups
/// by rule and root, and every file claimed.
fn group_files(
    fs: &FinalFs,
    rules: &RuleSet,
    paths: &PathRules,
    packages: &[Package],
) -> (BTreeMap<(usize, String), Group>, HashSet<NodeId>) {
    // the first rule matching each package by name
    let pkg_rule: Vec<Option<usize>> = packages
        .iter()
        .map(|p| {
            if !matches!(p.manager, Manager::Dpkg | Manager::Apk) || p.removed {
                return None;
            }
            rules
                .rules
                .iter()
                .position(|r| names_match(&r.packages, &p.name))
        })
        .collect();
    let mut owner: HashMap<NodeId, usize> = HashMap::new();
    for (pi, p) in packages.iter().enumerate() {
        if pkg_rule[pi].is_some() {
            for &n in &p.nodes {
                owner.entry(n).or_insert(pi);
            }
        }
    }
    let mut groups: BTreeMap<(usize, String), Group> = BTreeMap::new();
    let mut claimed: HashSet<NodeId> = HashSet::new();
    for node in fs.files() {
        let path = fs.image.paths.path(node);
        let by_path = paths.first_match(&path);
        let by_pkg = owner
            .get(&node)
            .and_then(|&pi| pkg_rule[pi].map(|r| (r, pi)));
        let (rule, key, root, package) = match (by_path, by_pkg) {
            (Some(p), Some((r, _))) if p.rule <= r => path_key(p, &path),
            (_, Some((r, pi))) => (
                r,
                format!("pkg:{}", packages[pi].name),
                None,
                Some(packages[pi].name.clone()),
            ),
            (Some(p), None) => path_key(p, &path),
            (None, None) => continue,
        };
        let g = groups.entry((rule, key)).or_default();
        g.root = root;
        g.package = package;
        g.nodes.push(node);
        g.paths.push(path);
        claimed.insert(node);
    }
    (groups, claimed)
}

/// Packages that only build tools need (perl for dpkg-dev, libcurl for git …): `build-deps`
/// leftovers, for the files no rule claimed. Not `compiler`: they are runtime libraries, and
/// the advice differs (they go away with the tools, not by themselves).
fn build_tool_dependencies(
    fs: &FinalFs,
    packages: &[Package],
    claimed: &mut HashSet<NodeId>,
) -> Vec<Leftover> {
    let mut out = Vec::new();
    for p in packages.iter().filter(|p| !p.needed_only_by.is_empty()) {
        let nodes: Vec<NodeId> = p
            .nodes
            .iter()
            .copied()
            .filter(|n| claimed.insert(*n))
            .collect();
        if nodes.is_empty() {
            continue;
        }
        let paths: Vec<String> = nodes.iter().map(|&n| fs.image.paths.path(n)).collect();
        let explanation = format!(
            "installed only because build tools depend on it ({})",
            p.needed_only_by.join(", ")
        );
        let advice =
            "Install the build tools in a separate build stage: what they pull in stays there too.";
        out.push(finding(
            fs,
            Category::BuildDeps,
            "build-tool-dependency",
            Severity::Medium,
            common_dir(&paths),
            Some(p.name.clone()),
            nodes,
            &explanation,
            advice,
        ));
    }
    out
}

fn path_key(p: &Pattern, path: &str) -> (usize, String, Option<String>, Option<String>) {
    if p.subtree {
        let root =
            p.re.captures(path)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string())
                .unwrap_or_default();
        (p.rule, root.clone(), Some(root), None)
    } else {
        (p.rule, "*".to_string(), None, None)
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    fs: &FinalFs,
    category: Category,
    rule: &str,
    severity: Severity,
    path: String,
    package: Option<String>,
    nodes: Vec<NodeId>,
    explanation: &str,
    advice: &str,
) -> Leftover {
    let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
    let mut bytes = 0;
    for &n in &nodes {
        if let Some((l, e)) = fs.entry(n) {
            if e.kind == EntryKind::File {
                bytes += e.size;
                *per_layer.entry(l).or_default() += e.size;
            }
        }
    }
    let layer = heaviest_layer(&per_layer);
    Leftover {
        category,
        rule: rule.to_string(),
        severity,
        node: fs.node(&path),
        path,
        package,
        bytes,
        files: nodes.len() as u64,
        layer,
        command: layer.map(|l| command_of(fs.image, l)).unwrap_or_default(),
        explanation: explanation.to_string(),
        advice: advice.to_string(),
        nodes,
    }
}

/// The layer's instruction, cleaned.
pub fn command_of(image: &Image, layer: usize) -> String {
    image
        .layers
        .get(layer)
        .and_then(|l| l.history.as_ref())
        .map(crate::analysis::stages::history_text)
        .unwrap_or_default()
}

/// Packages that only the app's devDependencies need: each direct devDependency, `@types`, and
/// the rest of the dev-only tree, as findings. Files claimed by a rule are not counted again.
fn dev_dependencies(
    fs: &FinalFs,
    packages: &[Package],
    claimed: &HashSet<NodeId>,
    ctx: &Context,
) -> Vec<Leftover> {
    let mut out = Vec::new();
    for app in npm_apps(fs) {
        if app.dev_dependencies.is_empty() {
            continue;
        }
        let nm = format!("{}/node_modules", app.dir.trim_end_matches('/'));
        let keep = npm_production_closure(fs, &app);
        let mut groups: BTreeMap<String, Vec<NodeId>> = BTreeMap::new();
        for p in packages.iter().filter(|p| p.manager == Manager::Npm) {
            let Some(dir) = p.dir else { continue };
            let dpath = fs.image.paths.path(dir);
            if !dpath.starts_with(&format!("{nm}/"))
                || keep
                    .iter()
                    .any(|k| dpath == *k || dpath.starts_with(&format!("{k}/")))
            {
                continue;
            }
            // the top-level package this one sits in, for nested node_modules
            let rel = &dpath[nm.len() + 1..];
            let top: Vec<&str> = rel
                .split('/')
                .take(if rel.starts_with('@') { 2 } else { 1 })
                .collect();
            let top = top.join("/");
            let key = if top.starts_with("@types/") {
                format!("{nm}/@types")
            } else if app.dev_dependencies.contains(&top) {
                format!("{nm}/{top}")
            } else {
                nm.clone()
            };
            groups
                .entry(key)
                .or_default()
                .extend(p.nodes.iter().copied().filter(|n| !claimed.contains(n)));
        }
        for (path, nodes) in groups {
            if nodes.is_empty() {
                continue;
            }
            let is_rest = path == nm;
            let explanation = if is_rest {
                "packages only devDependencies pull in (not reachable from dependencies)"
                    .to_string()
            } else {
                format!(
                    "listed only under devDependencies in {}/package.json",
                    app.dir.trim_end_matches('/')
                )
            };
            let advice = format!(
                "Install with `npm ci --omit=dev` in the runtime stage (or build in a separate stage and COPY --from only {} and production node_modules).",
                ctx.workdir.as_deref().map(|w| format!("{w}/dist")).unwrap_or_else(|| "the built output".into())
            );
            out.push(finding(
                fs,
                Category::DevDependency,
                "npm-dev-dependencies",
                Severity::High,
                path,
                None,
                nodes,
                &explanation,
                &advice,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_categories_listed() {
        for (i, c) in Category::ALL.into_iter().enumerate() {
            // a new variant does not compile here until it is given its place in ALL
            let place = match c {
                Category::Compiler => 0,
                Category::BuildDeps => 1,
                Category::DevFiles => 2,
                Category::PackageCache => 3,
                Category::DevDependency => 4,
                Category::Source => 5,
                Category::Vcs => 6,
                Category::Docs => 7,
            };
            assert_eq!(place, i, "{c:?}");
            assert_eq!(Category::from_name(c.as_str()), Some(c));
        }
        assert_eq!(Category::from_name("compilers"), None);
    }

    #[test]
    fn deep_yaml_is_refused_before_parsing() {
        for deep in [
            "[".repeat(100_000),
            "{a: ".repeat(100_000),
            format!("rules:\n{}x", "- ".repeat(100_000)),
        ] {
            let e = RuleSet::parse(&deep, "r.yaml").unwrap_err().to_string();
            assert!(
                e.starts_with("r.yaml: line ") && e.contains("nested more than 64"),
                "{e}"
            );
        }
        // brackets in quotes and comments are not nesting; the built-in rules pass
        assert!(
            check_yaml_nesting(&format!("a: \"{}\" # {}", "[".repeat(100), "{".repeat(100)))
                .is_ok()
        );
        assert!(check_yaml_nesting(BUILTIN_RULES).is_ok());
    }

    #[test]
    fn builtin_rules_parse() {
        let r: RuleSet = serde_norway::from_str(BUILTIN_RULES).expect("built-in rules parse");
        assert!(r.rules.len() > 10);
        for rule in &r.rules {
            for g in &rule.paths {
                let (src, _) = compile_pattern(&g.replace("{workdir}", "/app"));
                Regex::new(&src).unwrap_or_else(|e| panic!("{}: {g}: {e}", rule.id));
            }
        }
    }

    #[test]
    fn globs_match_like_shells() {
        let re = |g: &str| Regex::new(&format!("^{}$", glob_to_regex(g))).expect("regex");
        assert!(re("/usr/lib/go-*/**").is_match("/usr/lib/go-1.19/bin/go"));
        assert!(!re("/usr/lib/go-*/**").is_match("/usr/lib/golang/x"));
        assert!(re("/**/.git/**").is_match("/app/.git/HEAD"));
        assert!(re("/**/.git/**").is_match("/.git/HEAD"));
        assert!(re("/usr/bin/{ld,as}").is_match("/usr/bin/as"));
        assert!(!re("/usr/bin/{ld,as}").is_match("/usr/bin/ash"));
        assert!(re("/usr/lib/**/*.a").is_match("/usr/lib/x86_64-linux-gnu/libc.a"));
        let (src, sub) = compile_pattern("/usr/lib/go-*/**");
        assert!(sub);
        let caps = Regex::new(&src)
            .expect("re")
            .captures("/usr/lib/go-1.19/pkg/tool/x")
            .expect("match");
        assert_eq!(&caps[1], "/usr/lib/go-1.19");
    }

    #[test]
    fn user_rules_override_by_id_and_go_first() {
        let user = RuleSet::parse(
            "rules:\n  - id: docs\n    category: docs\n    severity: low\n    paths: ['/opt/doc/**']\n  - id: mine\n    category: source\n    paths: ['/src/**']\n",
            "test",
        )
        .expect("parses");
        let r = RuleSet::builtin().with_overrides(user);
        assert_eq!(r.rules[0].id, "mine");
        let docs = r.rules.iter().find(|x| x.id == "docs").expect("docs");
        assert_eq!(docs.paths, vec!["/opt/doc/**".to_string()]);
        assert!(RuleSet::parse("rules: [{id: x, category: nope}]", "f.yaml").is_err());
    }
}
