//! Package attribution: read the package databases of the image (dpkg, apk, Python RECORDs,
//! npm package.json) and map their files to final bytes, install layer and removal.

use crate::analysis::fsview::{heaviest_layer, join, FinalFs};
use crate::analysis::waste::TrueWaste;
use crate::image::EntryKind;
use crate::paths::NodeId;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    Dpkg,
    Apk,
    Python,
    Npm,
}

impl Manager {
    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Dpkg => "dpkg",
            Manager::Apk => "apk",
            Manager::Python => "python",
            Manager::Npm => "npm",
        }
    }
}

/// One installed (or installed-then-removed) package.
#[derive(Clone, Debug)]
pub struct Package {
    pub manager: Manager,
    pub name: String,
    pub version: String,
    /// Sum of the final sizes of its files (0 for removed packages).
    pub bytes: u64,
    pub files: u64,
    /// The layer that installed it: where its file list (dpkg) or most of its bytes are.
    pub layer: Option<usize>,
    /// A build tool (compiler, `-dev` package, devDependency …) by the rules.
    pub build_tool: bool,
    /// Installed in a lower layer, no longer installed at the end.
    pub removed: bool,
    /// For removed packages: bytes of its files still shipped in lower layers.
    pub shipped_bytes: u64,
    /// For removed packages: the layer whose package database no longer lists it.
    pub removed_in: Option<usize>,
    /// The package's own directory (npm, Python), for jumping to it.
    pub dir: Option<NodeId>,
    /// Its final regular files.
    pub nodes: Vec<NodeId>,
    /// Names it depends on (dpkg Depends/Pre-Depends with every alternative, apk D:).
    pub depends: Vec<String>,
    /// Virtual names it provides.
    pub provides: Vec<String>,
    /// Part of the base system (dpkg Essential or Priority required/important).
    pub essential: bool,
    /// Set when it is a build tool only because build tools depend on it: those build tools.
    pub needed_only_by: Vec<String>,
    /// Installed automatically as a dependency (apt's extended_states, not in apk's world).
    pub auto: bool,
}

impl Package {
    fn new(manager: Manager, name: &str, version: &str) -> Package {
        Package {
            manager,
            name: name.to_string(),
            version: version.to_string(),
            bytes: 0,
            files: 0,
            layer: None,
            build_tool: false,
            removed: false,
            shipped_bytes: 0,
            removed_in: None,
            dir: None,
            nodes: Vec::new(),
            depends: Vec::new(),
            provides: Vec::new(),
            essential: false,
            needed_only_by: Vec::new(),
            auto: false,
        }
    }
}

/// Final-filesystem files captured at load time, with their paths.
pub fn final_captured<'a>(fs: &FinalFs<'a>) -> Vec<(NodeId, String, &'a [u8])> {
    let mut v: Vec<(NodeId, String, &[u8])> = fs
        .image
        .captured
        .iter()
        .filter(|((layer, node), _)| fs.entry(*node).is_some_and(|(l, _)| l == *layer as usize))
        .map(|((_, node), bytes)| (*node, fs.image.paths.path(*node), bytes.as_slice()))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

/// Every captured version of a path, oldest first: (layer, content); `None` where removed.
fn versions<'a>(fs: &FinalFs<'a>, path: &str) -> Vec<(usize, Option<&'a [u8]>)> {
    let Some(node) = fs.node(path) else {
        return Vec::new();
    };
    fs.merged
        .versions(node)
        .iter()
        .map(|v| {
            (
                v.layer as usize,
                if v.present() {
                    fs.image.captured(v.layer as usize, node)
                } else {
                    None
                },
            )
        })
        .collect()
}

/// Read every package database of the image. Largest first.
pub fn collect(fs: &FinalFs, waste: &TrueWaste) -> Vec<Package> {
    let captured = final_captured(fs);
    let mut out = Vec::new();
    out.extend(dpkg(fs, waste));
    out.extend(apk(fs, waste));
    // which system packages were installed only as dependencies
    let text = |p: &str| {
        fs.node(p)
            .and_then(|n| fs.captured(n))
            .map(|c| String::from_utf8_lossy(c).to_string())
    };
    if let Some(t) = text("/var/lib/apt/extended_states") {
        let auto: HashSet<String> = deb822(&t)
            .into_iter()
            .filter(|p| p.get("Auto-Installed").map(|v| v.as_str()) == Some("1"))
            .filter_map(|p| p.get("Package").cloned())
            .collect();
        for p in out.iter_mut().filter(|p| p.manager == Manager::Dpkg) {
            p.auto = auto.contains(&p.name);
        }
    }
    if let Some(t) = text("/etc/apk/world") {
        let world: HashSet<String> = t
            .split_whitespace()
            .map(|w| {
                w.split(['=', '<', '>', '~'])
                    .next()
                    .unwrap_or(w)
                    .to_string()
            })
            .collect();
        for p in out.iter_mut().filter(|p| p.manager == Manager::Apk) {
            p.auto = !world.contains(&p.name);
        }
    }
    out.extend(python(fs, &captured));
    out.extend(npm(fs, &captured));
    out.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.shipped_bytes.cmp(&a.shipped_bytes))
            .then(a.name.cmp(&b.name))
    });
    out
}

/// Add the final regular files among `paths` to a package; return the nodes seen.
fn attribute(fs: &FinalFs, p: &mut Package, paths: impl Iterator<Item = String>) {
    let mut seen = HashSet::new();
    let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
    for path in paths {
        let Some((node, _)) = fs.resolve(&path, false) else {
            continue;
        };
        let Some((layer, e)) = fs.entry(node) else {
            continue;
        };
        if e.kind != EntryKind::File || !seen.insert(node) {
            continue;
        }
        p.bytes += e.size;
        p.files += 1;
        p.nodes.push(node);
        *per_layer.entry(layer).or_default() += e.size;
    }
    if p.layer.is_none() {
        p.layer = heaviest_layer(&per_layer);
    }
}

/// Bytes of the given paths' copies that are shipped but invisible at the end.
fn shipped_invisible(
    fs: &FinalFs,
    waste_by_node: &HashMap<NodeId, u64>,
    paths: impl Iterator<Item = String>,
) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    for path in paths {
        // removed paths no longer resolve through symlinks: try the path as stored and through /usr
        let candidates = [path.clone(), format!("/usr{path}")];
        for c in candidates {
            if let Some(n) = fs.node(&c) {
                if seen.insert(n) {
                    total += waste_by_node.get(&n).copied().unwrap_or(0);
                }
            }
        }
    }
    total
}

fn waste_by_node(waste: &TrueWaste) -> HashMap<NodeId, u64> {
    let mut m: HashMap<NodeId, u64> = HashMap::new();
    for c in &waste.copies {
        *m.entry(c.node).or_default() += c.bytes;
    }
    m
}

/// Paragraphs of a deb822 file as field maps (continuation lines dropped).
pub fn deb822(text: &str) -> Vec<HashMap<String, String>> {
    let mut out = Vec::new();
    let mut cur: HashMap<String, String> = HashMap::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A dependency field's package names: every alternative, without versions or `:any`.
pub fn dep_names(field: &str) -> Vec<String> {
    field
        .split([',', '|'])
        .filter_map(|d| d.split_whitespace().next())
        .map(|d| d.split(':').next().unwrap_or(d).to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// One installed dpkg package's facts from the status file.
#[derive(Clone, Debug, Default)]
struct DpkgRecord {
    version: String,
    arch: String,
    depends: Vec<String>,
    provides: Vec<String>,
    essential: bool,
}

/// Installed dpkg packages of one status file, by name.
fn dpkg_installed(text: &str) -> BTreeMap<String, DpkgRecord> {
    let mut m = BTreeMap::new();
    for p in deb822(text) {
        let (Some(name), Some(status)) = (p.get("Package"), p.get("Status")) else {
            continue;
        };
        if !status.ends_with(" installed") {
            continue;
        }
        let field = |k: &str| p.get(k).cloned().unwrap_or_default();
        let mut depends = dep_names(&field("Depends"));
        depends.extend(dep_names(&field("Pre-Depends")));
        m.insert(
            name.clone(),
            DpkgRecord {
                version: field("Version"),
                arch: field("Architecture"),
                depends,
                provides: dep_names(&field("Provides")),
                essential: field("Essential") == "yes"
                    || matches!(field("Priority").as_str(), "required" | "important"),
            },
        );
    }
    m
}

/// Record in `gone` the layer where each package seen so far (`ever`) stops being installed
/// (`installed` says whether this layer's database lists it); one listed again is not gone.
fn note_removals<'a>(
    gone: &mut BTreeMap<String, usize>,
    ever: impl Iterator<Item = &'a String>,
    installed: impl Fn(&str) -> bool,
    layer: usize,
) {
    for name in ever {
        if installed(name) {
            gone.remove(name);
        } else {
            gone.entry(name.clone()).or_insert(layer);
        }
    }
}

fn dpkg(fs: &FinalFs, waste: &TrueWaste) -> Vec<Package> {
    let status_versions = versions(fs, "var/lib/dpkg/status");
    let mut final_set = BTreeMap::new();
    let mut ever: BTreeMap<String, DpkgRecord> = BTreeMap::new();
    let mut gone: BTreeMap<String, usize> = BTreeMap::new();
    for (layer, content) in &status_versions {
        let set = content
            .map(|c| dpkg_installed(&String::from_utf8_lossy(c)))
            .unwrap_or_default();
        note_removals(&mut gone, ever.keys(), |n| set.contains_key(n), *layer);
        for (k, v) in &set {
            ever.insert(k.clone(), v.clone());
        }
        final_set = set;
    }
    // distroless: one status file per package under status.d, no file lists
    let mut out = Vec::new();
    if let Some(dir) = fs.node("var/lib/dpkg/status.d") {
        let mut nodes = Vec::new();
        fs.walk(dir, |n| nodes.push(n));
        for n in nodes {
            if let Some(c) = fs.captured(n) {
                for (name, rec) in dpkg_installed(&String::from_utf8_lossy(c)) {
                    let mut p = Package::new(Manager::Dpkg, &name, &rec.version);
                    p.layer = fs.entry(n).map(|(l, _)| l);
                    out.push(p);
                }
            }
        }
    }
    if ever.is_empty() {
        return out;
    }
    let wb = waste_by_node(waste);
    let list_names = |name: &str, arch: &str| {
        [
            format!("var/lib/dpkg/info/{name}.list"),
            format!("var/lib/dpkg/info/{name}:{arch}.list"),
        ]
    };
    for (name, rec) in &ever {
        let (version, arch) = (&rec.version, &rec.arch);
        let mut p = Package::new(Manager::Dpkg, name, version);
        p.depends = rec.depends.clone();
        p.provides = rec.provides.clone();
        p.essential = rec.essential;
        let removed = !final_set.contains_key(name);
        if !removed {
            let mut list = None;
            for ln in list_names(name, arch) {
                if let Some(n) = fs.node(&ln) {
                    if let (Some(c), Some((layer, _))) = (fs.captured(n), fs.entry(n)) {
                        list = Some(c);
                        p.layer = Some(layer);
                    }
                }
            }
            if let Some(c) = list {
                let text = String::from_utf8_lossy(c);
                attribute(fs, &mut p, text.lines().map(str::to_string));
            }
        } else {
            p.removed = true;
            p.removed_in = gone.get(name).copied();
            // the last captured version of its file list, from the layers that still ship it
            let mut last: Option<&[u8]> = None;
            for ln in list_names(name, arch) {
                for (layer, c) in versions(fs, &ln) {
                    if let Some(c) = c {
                        last = Some(c);
                        p.layer = Some(layer);
                    }
                }
            }
            if let Some(c) = last {
                let text = String::from_utf8_lossy(c);
                p.shipped_bytes = shipped_invisible(fs, &wb, text.lines().map(str::to_string));
            }
        }
        out.push(p);
    }
    out
}

type ApkRecord = (String, String, Vec<String>, Vec<String>);

/// apk's installed database: (name, version, files, depends).
fn apk_installed(text: &str) -> Vec<ApkRecord> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let (mut name, mut version, mut files, mut dir) =
            (String::new(), String::new(), Vec::new(), String::new());
        let mut deps = Vec::new();
        for line in block.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k {
                "P" => name = v.to_string(),
                "V" => version = v.to_string(),
                // `so:libc.musl…` and `cmd:` names are virtual: only plain names are packages
                "D" => deps.extend(
                    v.split_whitespace()
                        .filter(|d| !d.contains(':') && !d.starts_with('!'))
                        .map(|d| {
                            d.split(['=', '<', '>', '~'])
                                .next()
                                .unwrap_or(d)
                                .to_string()
                        }),
                ),
                "F" => dir = v.to_string(),
                "R" => files.push(format!("/{dir}/{v}").replace("//", "/")),
                _ => {}
            }
        }
        if !name.is_empty() {
            out.push((name, version, files, deps));
        }
    }
    out
}

fn apk(fs: &FinalFs, waste: &TrueWaste) -> Vec<Package> {
    let vs = versions(fs, "lib/apk/db/installed");
    if vs.is_empty() {
        return Vec::new();
    }
    let mut ever: BTreeMap<String, (String, Vec<String>, usize, Vec<String>)> = BTreeMap::new();
    let mut final_names = BTreeSet::new();
    let mut gone: BTreeMap<String, usize> = BTreeMap::new();
    for (layer, content) in &vs {
        let set = content
            .map(|c| apk_installed(&String::from_utf8_lossy(c)))
            .unwrap_or_default();
        final_names = set.iter().map(|(n, _, _, _)| n.clone()).collect();
        note_removals(&mut gone, ever.keys(), |n| final_names.contains(n), *layer);
        for (n, v, f, d) in set {
            ever.insert(n, (v, f, *layer, d));
        }
    }
    let wb = waste_by_node(waste);
    let mut out = Vec::new();
    for (name, (version, files, layer, deps)) in ever {
        let mut p = Package::new(Manager::Apk, &name, &version);
        p.depends = deps;
        if final_names.contains(&name) {
            attribute(fs, &mut p, files.into_iter());
        } else {
            p.removed = true;
            p.layer = Some(layer);
            p.removed_in = gone.get(&name).copied();
            p.shipped_bytes = shipped_invisible(fs, &wb, files.into_iter());
        }
        out.push(p);
    }
    out
}

/// `requests-2.31.0.dist-info` → (`requests`, `2.31.0`); egg-info names may add `-py3.11`.
fn split_dist_name(dir: &str) -> (String, String) {
    let stem = dir
        .trim_end_matches(".dist-info")
        .trim_end_matches(".egg-info");
    let mut parts = stem.splitn(3, '-');
    let name = parts.next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("").to_string();
    (name, version)
}

fn python(fs: &FinalFs, captured: &[(NodeId, String, &[u8])]) -> Vec<Package> {
    let mut out = Vec::new();
    for (node, path, content) in captured {
        let name = path.rsplit('/').next().unwrap_or("");
        let is_record = name == "RECORD" && path.contains(".dist-info/");
        let is_egg = name == "installed-files.txt" && path.contains(".egg-info/");
        if !is_record && !is_egg {
            continue;
        }
        let Some(meta_dir) = fs.image.paths.parent(*node) else {
            continue;
        };
        let meta_path = fs.image.paths.path(meta_dir);
        let (pname, version) = split_dist_name(fs.image.paths.name(meta_dir));
        let text = String::from_utf8_lossy(content);
        // RECORD paths are relative to the site-packages directory, egg lists to the egg-info
        let base = if is_record {
            fs.image
                .paths
                .parent(meta_dir)
                .map(|d| fs.image.paths.path(d))
                .unwrap_or_default()
        } else {
            meta_path
        };
        let mut p = Package::new(Manager::Python, &pname, &version);
        p.dir = Some(meta_dir);
        let files: Vec<String> = text
            .lines()
            .filter_map(|l| {
                let f = if is_record {
                    csv_first(l)
                } else {
                    l.trim().to_string()
                };
                (!f.is_empty()).then(|| join(&base, &f))
            })
            .collect();
        attribute(fs, &mut p, files.into_iter());
        out.push(p);
    }
    out
}

/// First field of a RECORD line (paths with commas are double-quoted).
fn csv_first(line: &str) -> String {
    if let Some(rest) = line.strip_prefix('"') {
        let mut s = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    s.push('"');
                } else {
                    break;
                }
            } else {
                s.push(c);
            }
        }
        return s;
    }
    line.split(',').next().unwrap_or("").to_string()
}

/// Is `path` (`…/node_modules/NAME/package.json` or `…/node_modules/@s/NAME/package.json`) a
/// package's manifest? Returns the package directory path.
pub fn npm_package_dir(path: &str) -> Option<&str> {
    let dir = path.strip_suffix("/package.json")?;
    let (parent, _) = dir.rsplit_once('/')?;
    if parent.ends_with("/node_modules") {
        return Some(dir);
    }
    let (grand, scope) = parent.rsplit_once('/')?;
    (scope.starts_with('@') && grand.ends_with("/node_modules")).then_some(dir)
}

fn npm(fs: &FinalFs, captured: &[(NodeId, String, &[u8])]) -> Vec<Package> {
    let mut out = Vec::new();
    for (node, path, content) in captured {
        if npm_package_dir(path).is_none() {
            continue;
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(content) else {
            continue;
        };
        let Some(dir) = fs.image.paths.parent(*node) else {
            continue;
        };
        let name = json
            .get("name")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| {
                let p = fs.image.paths.path(dir);
                p.rsplit("/node_modules/").next().unwrap_or("").to_string()
            });
        let version = json.get("version").and_then(|v| v.as_str()).unwrap_or("");
        let mut p = Package::new(Manager::Npm, &name, version);
        p.dir = Some(dir);
        let nested = fs.image.paths.child(dir, "node_modules");
        let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for &c in fs.image.paths.children(d) {
                if Some(c) == nested || !fs.present(c) {
                    continue;
                }
                match fs.entry(c) {
                    Some((l, e)) if e.kind == EntryKind::File => {
                        p.bytes += e.size;
                        p.files += 1;
                        p.nodes.push(c);
                        *per_layer.entry(l).or_default() += e.size;
                    }
                    Some((_, e)) if e.kind != EntryKind::Dir => {}
                    _ => stack.push(c),
                }
            }
        }
        p.layer = heaviest_layer(&per_layer);
        out.push(p);
    }
    out
}

/// An application's `package.json` (not inside `node_modules`) and what it declares.
#[derive(Clone, Debug, Default)]
pub struct NpmApp {
    /// The directory holding the manifest.
    pub dir: String,
    pub dependencies: Vec<String>,
    pub dev_dependencies: Vec<String>,
}

/// Application manifests of the final filesystem.
pub fn npm_apps(fs: &FinalFs) -> Vec<NpmApp> {
    let mut out = Vec::new();
    for (_, path, content) in final_captured(fs) {
        if !path.ends_with("/package.json")
            || path.contains("/node_modules/")
            || path.starts_with("/usr/share/")
            || path.starts_with("/usr/lib/")
        {
            continue;
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(content) else {
            continue;
        };
        let keys = |k: &str| -> Vec<String> {
            json.get(k)
                .and_then(|v| v.as_object())
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        let mut deps = keys("dependencies");
        deps.extend(keys("optionalDependencies"));
        deps.extend(keys("peerDependencies"));
        let dir = path
            .strip_suffix("/package.json")
            .unwrap_or("/")
            .to_string();
        out.push(NpmApp {
            dir,
            dependencies: deps,
            dev_dependencies: keys("devDependencies"),
        });
    }
    out
}

/// Resolve `name` from `from_dir` the way node does: `node_modules/name` here, then upwards.
fn node_resolve(fs: &FinalFs, from_dir: &str, name: &str) -> Option<String> {
    let mut dir = from_dir.to_string();
    loop {
        let cand = if dir.ends_with("/node_modules") {
            format!("{dir}/{name}")
        } else {
            format!("{dir}/node_modules/{name}")
        };
        if let Some(n) = fs.node(&cand) {
            if fs.present(n) {
                return Some(cand);
            }
        }
        if dir == "/" || dir.is_empty() {
            return None;
        }
        dir = match dir.rsplit_once('/') {
            Some(("", _)) => "/".to_string(),
            Some((p, _)) => p.to_string(),
            None => return None,
        };
    }
}

/// Package directories the app needs at run time: its dependencies, transitively.
pub fn npm_production_closure(fs: &FinalFs, app: &NpmApp) -> BTreeSet<String> {
    let mut keep = BTreeSet::new();
    let mut queue: Vec<(String, String)> = app
        .dependencies
        .iter()
        .map(|d| (app.dir.clone(), d.clone()))
        .collect();
    while let Some((from, name)) = queue.pop() {
        let Some(dir) = node_resolve(fs, &from, &name) else {
            continue;
        };
        if !keep.insert(dir.clone()) {
            continue;
        }
        let Some(n) = fs.node(&format!("{dir}/package.json")) else {
            continue;
        };
        let Some(c) = fs.captured(n) else { continue };
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(c) else {
            continue;
        };
        for k in ["dependencies", "optionalDependencies", "peerDependencies"] {
            if let Some(o) = json.get(k).and_then(|v| v.as_object()) {
                for d in o.keys() {
                    queue.push((dir.clone(), d.clone()));
                }
            }
        }
    }
    keep
}

/// Mark as build tools the automatically installed system packages that only build tools
/// depend on, transitively (perl for dpkg-dev, libisl for gcc …). Packages installed by name
/// (apt's manual ones, apk's world) and base-system packages are never marked.
pub fn propagate_build_tools(pkgs: &mut [Package]) {
    let sys = |p: &Package| matches!(p.manager, Manager::Dpkg | Manager::Apk) && !p.removed;
    // who depends on each name (a package's own name and what it provides)
    let mut provider: HashMap<(Manager, String), Vec<usize>> = HashMap::new();
    for (i, p) in pkgs.iter().enumerate().filter(|(_, p)| sys(p)) {
        provider
            .entry((p.manager, p.name.clone()))
            .or_default()
            .push(i);
        for v in &p.provides {
            provider.entry((p.manager, v.clone())).or_default().push(i);
        }
    }
    let mut rdeps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); pkgs.len()];
    for (i, p) in pkgs.iter().enumerate().filter(|(_, p)| sys(p)) {
        for d in &p.depends {
            for &j in provider
                .get(&(p.manager, d.clone()))
                .map(|v| v.as_slice())
                .unwrap_or(&[])
            {
                if j != i {
                    rdeps[j].insert(i);
                }
            }
        }
    }
    loop {
        let mut changed = false;
        for j in 0..pkgs.len() {
            let p = &pkgs[j];
            if !sys(p) || !p.auto || p.build_tool || p.essential || rdeps[j].is_empty() {
                continue;
            }
            if rdeps[j].iter().all(|&i| pkgs[i].build_tool) {
                let by: Vec<String> = rdeps[j].iter().map(|&i| pkgs[i].name.clone()).collect();
                pkgs[j].build_tool = true;
                pkgs[j].needed_only_by = by;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
