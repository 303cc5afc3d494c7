//! What a multi-stage rewrite would weigh: the final filesystem without leftovers, and the
//! runtime closure of the image's program (ELF interpreter and DT_NEEDED like ld.so, script
//! interpreters, node/python/java runtimes and the app), with the assumptions spelled out.

use crate::analysis::capture::{ElfFacts, SHEBANG_TAG};
use crate::analysis::fsview::{join, FinalFs};
use crate::analysis::leftovers::Leftover;
use crate::analysis::packages::{npm_apps, npm_production_closure};
use crate::image::EntryKind;
use crate::paths::NodeId;
use crate::units::human_bytes;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimates {
    /// Regular-file bytes of the final filesystem.
    pub final_bytes: u64,
    /// The final filesystem minus every leftover.
    pub without_leftovers_bytes: u64,
    /// The runtime closure's bytes (null: no program to start from).
    pub runtime_closure_bytes: Option<u64>,
    pub runtime_closure_files: u64,
    /// The smallest base the closure fits: `scratch`, `distroless/static`, `distroless/base`,
    /// `distroless/cc`, `alpine`, `slim`.
    pub runtime_closure_base: Option<String>,
    /// The program the closure starts from, resolved.
    pub program: Option<String>,
    pub assumptions: Vec<String>,
    /// Every file of the closure, for jumping to them.
    #[serde(skip)]
    pub closure_nodes: Vec<NodeId>,
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const CA_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/certs/ca-bundle.crt",
];
/// Libraries every distroless/base image has (glibc and OpenSSL).
const GLIBC_LIBS: [&str; 12] = [
    "libc.so",
    "libm.so",
    "libpthread.so",
    "libdl.so",
    "librt.so",
    "libresolv.so",
    "libnss_",
    "ld-linux",
    "libssl.so",
    "libcrypto.so",
    "libutil.so",
    "libanl.so",
];

/// The builtins Debian's nodejs loads from `/usr/share/nodejs` at start instead of carrying
/// them (their paths are compiled into libnode; found by `bathy suggest --verify`, where a
/// runtime stage without them aborts).
const DEBIAN_NODE_BUILTINS: [&str; 5] = [
    "/usr/share/nodejs/acorn/dist/acorn.js",
    "/usr/share/nodejs/acorn-walk/dist/walk.js",
    "/usr/share/nodejs/cjs-module-lexer/lexer.js",
    "/usr/share/nodejs/cjs-module-lexer/dist/lexer.js",
    "/usr/share/nodejs/undici/undici-fetch.js",
];

fn multiarch(arch: Option<&str>) -> &'static str {
    match arch.unwrap_or("amd64") {
        "arm64" => "aarch64-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "386" => "i386-linux-gnu",
        "ppc64le" => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "riscv64" => "riscv64-linux-gnu",
        _ => "x86_64-linux-gnu",
    }
}

/// The runtime closure being collected, and the assumptions made on the way.
struct Closure<'a, 'b> {
    fs: &'b FinalFs<'a>,
    nodes: BTreeSet<NodeId>,
    elf_done: HashSet<NodeId>,
    lib_dirs: Vec<String>,
    missing: BTreeSet<String>,
    dynamic: bool,
    libs: BTreeSet<String>,
    musl: bool,
    /// What the estimate assumed, in the order it was assumed.
    notes: Vec<String>,
}

impl<'a, 'b> Closure<'a, 'b> {
    /// Add a path (following symlinks, which are added too); returns the final node.
    fn add_path(&mut self, path: &str) -> Option<NodeId> {
        let (node, links) = self.fs.resolve(path, true)?;
        self.nodes.extend(links);
        self.nodes.insert(node);
        if let Some(n) = self.fs.node(path) {
            self.nodes.insert(n);
        }
        Some(node)
    }

    fn add_tree(&mut self, dir: NodeId, skip: &dyn Fn(&str) -> bool, exclude: &HashSet<NodeId>) {
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for &c in self.fs.image.paths.children(d) {
                if !self.fs.present(c) || exclude.contains(&c) {
                    continue;
                }
                let path = self.fs.image.paths.path(c);
                if skip(&path) {
                    continue;
                }
                match self.fs.entry(c) {
                    Some((_, e)) if e.kind != EntryKind::Dir => {
                        self.nodes.insert(c);
                    }
                    _ => stack.push(c),
                }
            }
        }
    }

    /// The ELF file, its interpreter and its DT_NEEDED libraries, transitively.
    fn add_elf(&mut self, node: NodeId) {
        let mut queue = vec![node];
        while let Some(n) = queue.pop() {
            if !self.elf_done.insert(n) {
                continue;
            }
            let Some(facts) = self.fs.captured(n).and_then(ElfFacts::decode) else {
                continue;
            };
            let origin = self
                .fs
                .image
                .paths
                .parent(n)
                .map(|p| self.fs.image.paths.path(p))
                .unwrap_or_else(|| "/".into());
            if let Some(interp) = &facts.interp {
                self.dynamic = true;
                self.musl |= interp.contains("musl");
                match self.add_path(interp) {
                    Some(i) => queue.push(i),
                    None => {
                        self.missing.insert(interp.clone());
                    }
                }
            }
            for lib in &facts.needed {
                self.libs.insert(lib.clone());
                let mut dirs: Vec<String> = facts
                    .runpath
                    .iter()
                    .map(|r| r.replace("$ORIGIN", &origin).replace("${ORIGIN}", &origin))
                    .collect();
                dirs.extend(self.lib_dirs.iter().cloned());
                let found = if lib.contains('/') {
                    self.add_path(&join(&origin, lib))
                } else {
                    dirs.iter().find_map(|d| {
                        let p = join(d, lib);
                        let (node, _) = self.fs.resolve(&p, true)?;
                        matches!(self.fs.entry(node), Some((_, e)) if e.kind == EntryKind::File)
                            .then(|| self.add_path(&p))
                            .flatten()
                    })
                };
                match found {
                    Some(l) => queue.push(l),
                    None => {
                        self.missing.insert(lib.clone());
                    }
                }
            }
        }
    }

    fn is_elf(&self, node: NodeId) -> bool {
        self.fs
            .captured(node)
            .is_some_and(|c| ElfFacts::decode(c).is_some())
    }

    fn bytes(&self) -> u64 {
        self.nodes.iter().map(|&n| self.fs.file_bytes(n)).sum()
    }
}

/// Config environment value.
fn env_var(env: &[String], key: &str) -> Option<String> {
    env.iter()
        .rev()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

/// Find a program on PATH in the final filesystem.
fn which(fs: &FinalFs, prog: &str, path_var: &str, workdir: &str) -> Option<String> {
    if prog.contains('/') {
        return Some(join(workdir, prog));
    }
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| join(d, prog))
        .find(|p| {
            fs.resolve(p, true).is_some_and(
                |(n, _)| matches!(fs.entry(n), Some((_, e)) if e.kind == EntryKind::File),
            )
        })
}

#[derive(PartialEq, Clone, Copy, Debug)]
enum Runtime {
    Native,
    Node,
    Python,
    Java,
}

fn runtime_of(name: &str) -> Runtime {
    let base = name.rsplit('/').next().unwrap_or(name);
    if base == "node" || base == "nodejs" {
        Runtime::Node
    } else if base.starts_with("python") {
        Runtime::Python
    } else if base == "java" {
        Runtime::Java
    } else {
        Runtime::Native
    }
}

/// What the image's config says about starting its program.
struct StartConfig {
    /// Entrypoint then Cmd.
    argv: Vec<String>,
    env: Vec<String>,
    path_var: String,
    workdir: String,
}

impl StartConfig {
    fn of(image: &crate::image::Image) -> StartConfig {
        let cfg = image.config.config.clone().unwrap_or_default();
        let mut argv: Vec<String> = cfg.entrypoint.clone().unwrap_or_default();
        argv.extend(cfg.cmd.clone().unwrap_or_default());
        let env = cfg.env.clone().unwrap_or_default();
        StartConfig {
            path_var: env_var(&env, "PATH").unwrap_or_else(|| DEFAULT_PATH.to_string()),
            workdir: cfg
                .working_dir
                .clone()
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "/".into()),
            argv,
            env,
        }
    }
}

/// Compute both estimates.
pub fn estimate(fs: &FinalFs, leftovers: &[Leftover]) -> Estimates {
    let final_bytes: u64 = fs.files().iter().map(|&n| fs.file_bytes(n)).sum();
    let leftover_bytes: u64 = leftovers.iter().map(|l| l.bytes).sum();
    let mut est = Estimates {
        final_bytes,
        without_leftovers_bytes: final_bytes.saturating_sub(leftover_bytes),
        runtime_closure_bytes: None,
        runtime_closure_files: 0,
        runtime_closure_base: None,
        program: None,
        assumptions: Vec::new(),
        closure_nodes: Vec::new(),
    };
    let first = format!(
        "without leftovers: the final filesystem ({}) minus every leftover finding ({}), docs and locales included",
        human_bytes(final_bytes),
        human_bytes(leftover_bytes)
    );
    let start = StartConfig::of(fs.image);
    if start.argv.is_empty() {
        est.assumptions = vec![
            first,
            "runtime closure: the config has no Entrypoint or Cmd, so there is no program to start from".into(),
        ];
        return est;
    }
    let excluded: HashSet<NodeId> = leftovers
        .iter()
        .flat_map(|l| l.nodes.iter().copied())
        .collect();
    let mut c = Closure::new(fs, &start);
    c.notes.push(first);
    let Some(program) = c.collect(&start, &excluded) else {
        est.assumptions = c.notes;
        return est;
    };
    est.program = Some(program.path);
    c.add_common_files();
    if !c.missing.is_empty() {
        let missing = c.missing.iter().cloned().collect::<Vec<_>>().join(", ");
        c.notes
            .push(format!("not found in the final filesystem: {missing}"));
    }
    c.notes
        .push("libraries loaded with dlopen (NSS modules, plugins, gconv) are not traced".into());
    let base = c.base(program.runtime);
    est.runtime_closure_bytes = Some(c.bytes());
    est.runtime_closure_files = c
        .nodes
        .iter()
        .filter(|&&n| {
            fs.file_bytes(n) > 0 || matches!(fs.entry(n), Some((_, e)) if e.kind == EntryKind::File)
        })
        .count() as u64;
    est.runtime_closure_base = Some(base.to_string());
    est.closure_nodes = c.nodes.into_iter().collect();
    est.assumptions = c.notes;
    est
}

/// The program the closure starts from.
struct Program {
    /// Its path, symlinks resolved.
    path: String,
    runtime: Runtime,
}

/// What runs: the program (or its interpreter), with the arguments it is given.
struct Run {
    node: NodeId,
    runtime: Runtime,
    args: Vec<String>,
}

impl<'a, 'b> Closure<'a, 'b> {
    fn new(fs: &'b FinalFs<'a>, start: &StartConfig) -> Closure<'a, 'b> {
        let mut lib_dirs: Vec<String> = env_var(&start.env, "LD_LIBRARY_PATH")
            .map(|v| v.split(':').map(str::to_string).collect())
            .unwrap_or_default();
        lib_dirs.extend(ld_so_conf_dirs(fs));
        let ma = multiarch(fs.image.config.architecture.as_deref());
        for d in [
            format!("/lib/{ma}"),
            format!("/usr/lib/{ma}"),
            "/lib64".into(),
            "/usr/lib64".into(),
            "/lib".into(),
            "/usr/lib".into(),
            "/usr/local/lib".into(),
        ] {
            if !lib_dirs.contains(&d) {
                lib_dirs.push(d);
            }
        }
        Closure {
            fs,
            nodes: BTreeSet::new(),
            elf_done: HashSet::new(),
            lib_dirs,
            missing: BTreeSet::new(),
            dynamic: false,
            libs: BTreeSet::new(),
            musl: false,
            notes: Vec::new(),
        }
    }

    /// Everything the program needs to start: the program (through a shell form), its script
    /// interpreter, its runtime's files and the app, and the native code all of them load.
    /// `None` (with a note) when the program is not in the final filesystem.
    fn collect(&mut self, start: &StartConfig, excluded: &HashSet<NodeId>) -> Option<Program> {
        let args = self.shell_form(start);
        let prog = args.first()?.clone();
        let Some(prog_path) = which(self.fs, &prog, &start.path_var, &start.workdir) else {
            self.notes.push(format!(
                "runtime closure: `{prog}` is not in the final filesystem (PATH {})",
                start.path_var
            ));
            return None;
        };
        let Some(prog_node) = self.add_path(&prog_path) else {
            self.notes.push(format!(
                "runtime closure: `{prog_path}` does not resolve in the final filesystem"
            ));
            return None;
        };
        let path = self.fs.image.paths.path(prog_node);
        let mut run = Run {
            node: prog_node,
            runtime: runtime_of(&prog).max_rt(runtime_of(&path)),
            args: args[1..].to_vec(),
        };
        self.shebang(&mut run, &path, start);
        if self.is_elf(run.node) {
            self.add_elf(run.node);
        } else if run.runtime == Runtime::Native && !self.is_script(run.node) {
            self.notes.push(format!(
                "{} is neither ELF nor a script: only the file itself is counted",
                self.fs.image.paths.path(run.node)
            ));
        }
        let app_dir = app_dir(&run.args, &start.workdir);
        match run.runtime {
            Runtime::Node => self.node_app(&app_dir, excluded),
            Runtime::Python => self.python(run.node, &app_dir, excluded),
            Runtime::Java => self.java(run.node, &app_dir, excluded),
            Runtime::Native => {}
        }
        // native code the runtime and the app load: every ELF file collected so far
        let elfs: Vec<NodeId> = self
            .nodes
            .iter()
            .copied()
            .filter(|&n| self.is_elf(n))
            .collect();
        for n in elfs {
            self.add_elf(n);
        }
        Some(Program {
            path,
            runtime: run.runtime,
        })
    }

    /// A shell form (`sh -c "exec prog args"`) runs its first word through the shell, which is
    /// kept: the words to run.
    fn shell_form(&mut self, start: &StartConfig) -> Vec<String> {
        let args = &start.argv;
        let is_shell = args.len() >= 3
            && runtime_of(&args[0]) == Runtime::Native
            && ["sh", "bash", "ash", "dash"].contains(&args[0].rsplit('/').next().unwrap_or(""))
            && args[1] == "-c";
        if !is_shell {
            return args.clone();
        }
        if let Some(p) = which(self.fs, &args[0], &start.path_var, &start.workdir)
            .and_then(|p| self.add_path(&p))
        {
            self.add_elf(p);
        }
        self.notes.push(format!(
            "the shell form `{}` runs its first word; the shell is kept",
            args[2]
        ));
        args[2]
            .split_whitespace()
            .filter(|w| *w != "exec")
            .map(str::to_string)
            .collect()
    }

    fn is_script(&self, node: NodeId) -> bool {
        self.fs
            .captured(node)
            .is_some_and(|x| x.starts_with(SHEBANG_TAG))
    }

    /// A script runs its shebang interpreter (through `/usr/bin/env`), which gets the script
    /// as its argument.
    fn shebang(&mut self, run: &mut Run, prog_path: &str, start: &StartConfig) {
        let Some(line) = self
            .fs
            .captured(run.node)
            .filter(|c| c.starts_with(SHEBANG_TAG))
        else {
            return;
        };
        let line = String::from_utf8_lossy(&line[2..]).trim().to_string();
        let mut words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        self.notes
            .push(format!("{prog_path} is a script for `{line}`"));
        if words.first().is_some_and(|w| w.ends_with("/env")) {
            if let Some(env_node) = self.add_path(&words[0]) {
                self.add_elf(env_node);
            }
            words.remove(0);
            while words.first().is_some_and(|w| w.starts_with('-')) {
                words.remove(0);
            }
        }
        let Some(interp) = words
            .first()
            .and_then(|w| which(self.fs, w, &start.path_var, &start.workdir))
        else {
            return;
        };
        run.args = vec![prog_path.to_string()];
        if let Some(n) = self.add_path(&interp) {
            run.runtime = runtime_of(&interp).max_rt(runtime_of(&self.fs.image.paths.path(n)));
            run.node = n;
        }
    }

    /// node: the app directory without node_modules, and the production dependencies.
    fn node_app(&mut self, app_dir: &str, excluded: &HashSet<NodeId>) {
        let fs = self.fs;
        let builtins: Vec<&str> = DEBIAN_NODE_BUILTINS
            .iter()
            .copied()
            .filter(|p| self.add_path(p).is_some())
            .collect();
        if !builtins.is_empty() {
            self.notes.push(format!(
                "node: Debian's node loads these builtins from files: {}",
                builtins.join(", ")
            ));
        }
        let no_deps = |p: &str| p.contains("/node_modules/") || p.ends_with("/node_modules");
        if let Some(d) = fs.node(app_dir).filter(|_| app_dir != "/") {
            self.add_tree(d, &no_deps, excluded);
            self.notes.push(format!("node: the app is {app_dir} (without node_modules and without leftovers such as sources)"));
        }
        let apps = npm_apps(fs);
        let Some(app) = apps.iter().find(|a| a.dir == app_dir) else {
            self.notes.push(format!(
                "node: no package.json in {app_dir}; no dependencies counted"
            ));
            return;
        };
        let dirs = npm_production_closure(fs, app);
        for d in &dirs {
            if let Some(n) = fs.node(d) {
                self.add_tree(n, &|p: &str| p.ends_with("/node_modules"), &HashSet::new());
            }
        }
        self.notes.push(format!("node: production dependencies are the {} packages reachable from {app_dir}/package.json's dependencies", dirs.len()));
    }

    /// python: the standard library and site-packages of the interpreter's version, and the app.
    fn python(&mut self, interp: NodeId, app_dir: &str, excluded: &HashSet<NodeId>) {
        let (fs, image) = (self.fs, self.fs.image);
        let interp_name = image.paths.name(interp).to_string();
        let version = interp_name.trim_start_matches("python").to_string();
        let mut added = Vec::new();
        for root in ["/usr/lib", "/usr/local/lib", "/opt/venv/lib", "/usr/lib64"] {
            let Some(r) = fs.node(root) else { continue };
            for &ch in image.paths.children(r) {
                let name = image.paths.name(ch);
                let fits = name == "python3"
                    || (name.starts_with("python3")
                        && (version.is_empty()
                            || version == "3"
                            || name == format!("python{version}")));
                if fits && fs.present(ch) {
                    let skip = |p: &str| {
                        p.contains("/test/") || p.ends_with("/test") || p.contains("/config-3")
                    };
                    self.add_tree(ch, &skip, excluded);
                    added.push(image.paths.path(ch));
                }
            }
        }
        self.notes.push(format!(
            "python: the standard library and every installed package in {} except packaging/test tools; imports are not traced",
            if added.is_empty() { "(none found)".to_string() } else { added.join(", ") }
        ));
        self.app("python", app_dir, excluded);
    }

    /// java: the runtime's home (two levels above `bin/java`) and the app.
    fn java(&mut self, java: NodeId, app_dir: &str, excluded: &HashSet<NodeId>) {
        let paths = &self.fs.image.paths;
        if let Some(h) = paths.parent(java).and_then(|b| paths.parent(b)) {
            self.add_tree(h, &|_| false, excluded);
            self.notes.push(format!(
                "java: the runtime is {} without JDK-only parts",
                paths.path(h)
            ));
        }
        self.app("java", app_dir, excluded);
    }

    /// An interpreter's app directory, whole (but its leftovers).
    fn app(&mut self, runtime: &str, app_dir: &str, excluded: &HashSet<NodeId>) {
        if app_dir == "/" {
            return;
        }
        if let Some(d) = self.fs.node(app_dir) {
            self.add_tree(d, &|_| false, excluded);
            self.notes.push(format!("{runtime}: the app is {app_dir}"));
        }
    }

    /// Files programs commonly read: the CA bundle, zoneinfo, passwd and group.
    fn add_common_files(&mut self) {
        let fs = self.fs;
        let mut extras = Vec::new();
        if let Some(ca) = CA_BUNDLES.iter().find(|p| fs.resolve(p, true).is_some()) {
            self.add_path(ca);
            extras.push(ca.to_string());
        }
        if let Some(tz) = fs.node("/usr/share/zoneinfo").filter(|&n| fs.present(n)) {
            self.add_tree(tz, &|_| false, &HashSet::new());
            extras.push("/usr/share/zoneinfo".into());
        }
        for f in ["/etc/passwd", "/etc/group"] {
            if self.add_path(f).is_some() {
                extras.push(f.into());
            }
        }
        if !extras.is_empty() {
            self.notes.push(format!(
                "kept because programs commonly read them: {}",
                extras.join(", ")
            ));
        }
    }

    /// The smallest base the closure fits, for a program of `runtime`.
    fn base(&mut self, runtime: Runtime) -> &'static str {
        match runtime {
            Runtime::Node | Runtime::Python | Runtime::Java => {
                self.notes.push(
                    format!(
                        "base: a slim image with the {runtime:?} runtime (or its distroless variant)"
                    )
                    .to_lowercase(),
                );
                "slim"
            }
            Runtime::Native if !self.dynamic => {
                self.notes.push("base: a static executable runs on scratch (COPY the CA bundle in if it makes TLS calls; distroless/static has it, tzdata and passwd)".into());
                "scratch"
            }
            Runtime::Native if self.musl => "alpine",
            Runtime::Native => self.glibc_base(),
        }
    }

    /// A dynamic glibc program: distroless/base, /cc with the C++ runtime, else slim.
    fn glibc_base(&mut self) -> &'static str {
        let other: Vec<&String> = self
            .libs
            .iter()
            .filter(|l| !GLIBC_LIBS.iter().any(|g| l.starts_with(g)))
            .collect();
        if other.is_empty() {
            return "distroless/base";
        }
        if other.iter().all(|l| {
            l.starts_with("libstdc++") || l.starts_with("libgcc_s") || l.starts_with("libz.so")
        }) {
            return "distroless/cc";
        }
        let list = other
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        self.notes
            .push(format!("base: needs libraries beyond glibc: {list}"));
        "slim"
    }
}

/// The app of an interpreter: the working directory when it has one, else the directory of
/// the first non-option argument.
fn app_dir(args: &[String], workdir: &str) -> String {
    match args.iter().find(|a| !a.starts_with('-')) {
        Some(_) if workdir != "/" => workdir.to_string(),
        Some(a) => {
            let p = join(workdir, a);
            p.rsplit_once('/')
                .map(|(d, _)| {
                    if d.is_empty() {
                        "/".to_string()
                    } else {
                        d.to_string()
                    }
                })
                .unwrap_or(p)
        }
        None => workdir.to_string(),
    }
}

trait MaxRt {
    fn max_rt(self, other: Runtime) -> Runtime;
}

impl MaxRt for Runtime {
    /// A named runtime wins over "native" (`/usr/bin/python3` → `python3.11`).
    fn max_rt(self, other: Runtime) -> Runtime {
        if self == Runtime::Native {
            other
        } else {
            self
        }
    }
}

/// Directories of `/etc/ld.so.conf` and the `include`d `*.conf` files.
fn ld_so_conf_dirs(fs: &FinalFs) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut texts = Vec::new();
    if let Some(n) = fs.node("/etc/ld.so.conf") {
        if let Some(c) = fs.captured(n) {
            texts.push(String::from_utf8_lossy(c).to_string());
        }
    }
    if let Some(d) = fs.node("/etc/ld.so.conf.d") {
        let mut kids: Vec<NodeId> = fs.image.paths.children(d).to_vec();
        kids.sort_by_key(|&k| fs.image.paths.name(k).to_string());
        for k in kids {
            if let Some(c) = fs.captured(k) {
                texts.push(String::from_utf8_lossy(c).to_string());
            }
        }
    }
    // order kept (ld.so searches in it), duplicates found in a set: the file can be long
    let mut seen = HashSet::new();
    for t in texts {
        for line in t.lines() {
            let l = line.split('#').next().unwrap_or("").trim();
            if l.is_empty() || l.starts_with("include") {
                continue;
            }
            if l.starts_with('/') && seen.insert(l.to_string()) {
                dirs.push(l.to_string());
            }
        }
    }
    dirs
}
