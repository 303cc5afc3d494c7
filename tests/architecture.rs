//! The shape of `src/`, checked rather than remembered: README's "How it works" table lists
//! every module, and no module imports from a layer above its own (data flows one way:
//! source → image/paths → tree → analysis → report → pipeline → front ends).
//!
//! A test rather than workspace crates: the layers are one crate's modules, and splitting them
//! into crates would add a manifest, a public API and a build unit per layer for a rule that a
//! reading of `use` lines enforces just as well.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module may use modules of lower layers only; modules of one
/// layer do not use each other. A new module under `src/` goes in here, in the layer of what
/// it holds.
const LAYERS: &[&[&str]] = &[
    // vocabulary every layer may speak
    &["error", "exit_codes"],
    // text made fit for a human: control characters escaped, cut to a width
    &["text_fit"],
    // sizes: parse and format (one grammar); messages quote input through text_fit
    &["units"],
    // small files read with a cap, devices and FIFOs refused by name
    &["small_file"],
    &["paths"],
    &["image"],
    &["progress"],
    &["source"],
    &["tree"],
    &["analysis"],
    // turns flags and `.dive-ci` into CI rules; renders nothing
    &["ci_config"],
    &["report"],
    // arguments → load options → images → analyses, for every front end
    &["pipeline"],
    // one file's versions and bytes across the layers (cat, diff, the viewer)
    &["contents"],
    // front ends: argument types, the explorer, the command line's dispatch
    &["cli"],
    &["tui"],
    // the user's config file: the explorer's settings (checked with the explorer's own
    // vocabulary: themes, actions, keys) and CI defaults
    &["config_file"],
    &["cli_front"],
    // fixtures built in code, and the demo image built with them: above everything, so the
    // library proper never depends on them (`cfg(test)` code may)
    &["testkit"],
    &["demo"],
    &["bin"],
];

/// TEMPORARY: backwards imports that issue 10's other parts are removing. Each entry is
/// (from, to, why it is still here); the test fails once an entry is no longer needed, so the
/// list empties as the work lands. Do not add to it.
const TEMPORARILY_ALLOWED: &[(&str, &str, &str)] = &[];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The crate's top-level modules: `src/*.rs` but `lib.rs`, and `src/*/`.
fn top_modules() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            if p.is_dir() {
                Some(name)
            } else {
                name.strip_suffix(".rs")
                    .filter(|m| *m != "lib")
                    .map(str::to_string)
            }
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn readme_how_it_works_lists_every_module() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## How it works\n")
        .nth(1)
        .expect("README has a \"## How it works\" section")
        .split("\n## ")
        .next()
        .unwrap();
    // the module column: every `name` in a table row's first cell
    let listed: BTreeSet<String> = section
        .lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .map(str::to_string)
        .collect();
    let modules = top_modules();
    let missing: Vec<_> = modules.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "README's \"How it works\" table does not list these modules under src/: {missing:?}"
    );
    let gone: Vec<_> = listed.difference(&modules).collect();
    assert!(
        gone.is_empty(),
        "README's \"How it works\" table lists modules that are not under src/: {gone:?}"
    );
}

#[test]
fn every_module_has_a_layer() {
    let placed: BTreeSet<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
    let unplaced: Vec<_> = top_modules()
        .into_iter()
        .filter(|m| !placed.contains(m.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules {unplaced:?} are in no layer: place each in LAYERS in tests/architecture.rs, \
         in the layer of what it holds"
    );
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut backwards = Vec::new();
    let mut allowed_seen = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(src()).unwrap();
        let from = top_module_of(rel);
        if from == "lib" || from == "bin" {
            continue; // the root declares every module; the binary may use any of them
        }
        let Some(from_layer) = layer_of(&from) else {
            continue; // reported by every_module_has_a_layer
        };
        let text = strip_tests(&code_only(&std::fs::read_to_string(file).unwrap()));
        for to in used_top_modules(&text, rel) {
            if to == from {
                continue;
            }
            let Some(to_layer) = layer_of(&to) else {
                continue;
            };
            if to_layer < from_layer {
                continue;
            }
            if TEMPORARILY_ALLOWED
                .iter()
                .any(|(f, t, _)| *f == from && *t == to)
            {
                allowed_seen.insert((from.clone(), to.clone()));
                continue;
            }
            let how = if to_layer == from_layer {
                "the same layer"
            } else {
                "a layer above"
            };
            backwards.push(format!(
                "{} uses crate::{to} ({how} {from}'s)",
                rel.display()
            ));
        }
    }
    backwards.dedup();
    assert!(
        backwards.is_empty(),
        "data flows one way (see LAYERS in tests/architecture.rs); these imports go against \
         it:\n{}",
        backwards.join("\n")
    );
    let stale: Vec<_> = TEMPORARILY_ALLOWED
        .iter()
        .filter(|(f, t, _)| !allowed_seen.contains(&(f.to_string(), t.to_string())))
        .map(|(f, t, _)| format!("{f} → {t}"))
        .collect();
    assert!(
        stale.is_empty(),
        "no longer needed: remove {stale:?} from TEMPORARILY_ALLOWED in tests/architecture.rs"
    );
}

/// `analysis` for `analysis/why.rs`, `app` for `app.rs`.
fn top_module_of(rel: &Path) -> String {
    let first = rel.components().next().unwrap();
    let first = first.as_os_str().to_str().unwrap();
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

/// The top-level modules a file's code names through `crate::` (also `crate::{a, b::c}`) or
/// through enough `super::`s to reach the crate root.
fn used_top_modules(code: &str, rel: &Path) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with('$') || is_ident_char(code[..i].chars().next_back()) {
            continue;
        }
        used.extend(first_segments(&code[i + "crate::".len()..]));
    }
    // how many `super`s lead from this file's module to the crate root
    let depth = rel.components().count() - usize::from(rel.ends_with("mod.rs"));
    let supers = "super::".repeat(depth);
    for (i, _) in code.match_indices(&supers) {
        if is_ident_char(code[..i].chars().next_back()) || code[..i].ends_with("super::") {
            continue;
        }
        used.extend(first_segments(&code[i + supers.len()..]));
    }
    used
}

fn is_ident_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
}

/// The first path segment after `crate::`, or each item's first segment in a `{…}` group.
fn first_segments(rest: &str) -> Vec<String> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut items = vec![String::new()];
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => items.push(String::new()),
                _ => items.last_mut().unwrap().push(c),
            }
        }
        items
            .iter()
            .filter_map(|item| ident(item.trim_start()))
            .collect()
    } else {
        ident(rest).into_iter().collect()
    }
}

fn ident(s: &str) -> Option<String> {
    let id: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!id.is_empty() && id != "self").then_some(id)
}

/// The source with comments, string and char literals blanked out, so that doc links and
/// messages that mention `crate::x` do not count as uses.
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(end) = raw_string_end(&b, i) {
            out.push_str("\"\"");
            i = end;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // a char literal ('x', '\n', '\u{1F600}'), else a lifetime
            let end = if next == Some('\\') {
                (i + 2..b.len()).find(|&j| b[j] == '\'')
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    out.push_str("' '");
                    i = e + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Where a raw string (`r"…"`, `r#"…"#`, `br#"…"#`) starting at `i` ends, if one does.
fn raw_string_end(b: &[char], i: usize) -> Option<usize> {
    if is_ident_char(i.checked_sub(1).map(|p| b[p])) {
        return None;
    }
    let mut j = i;
    if b.get(j) == Some(&'b') {
        j += 1;
    }
    if b.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    if b.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < b.len() {
        if b[j] == '"'
            && b[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(b.len())
}

/// The code without its `#[cfg(test)]` items: unit tests may use the test helpers.
fn strip_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // the item ends at the `;` of `mod x;`/`use …;` or the brace that closes its body
        let Some(open) = after.find(['{', ';']) else {
            return out;
        };
        if after.as_bytes()[open] == b';' {
            rest = &after[open + 1..];
            continue;
        }
        let mut depth = 0;
        let mut end = after.len();
        for (k, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_import_reader_reads_what_rust_means() {
    let code = code_only(
        "use crate::{analysis::X, report, tree::{A, B}};\n\
         // crate::app in a comment\n\
         /* crate::cli /* nested */ crate::tui */\n\
         let s = \"crate::pipeline\"; let r = r#\"crate::demo \"quoted\" \"#;\n\
         let c = '\"'; fn f<'a>(x: &'a str) -> &'a str { crate::paths::x(x) }\n\
         $crate::units::y; my_crate::source::z;\n\
         #[cfg(test)]\nmod tests { use crate::testkit; fn g() { if x { } } }\n\
         use super::super::image::Y;",
    );
    let code = strip_tests(&code);
    let used = used_top_modules(&code, Path::new("tui/compare/x.rs"));
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["analysis", "paths", "report", "tree"]
    );
    let used = used_top_modules(
        "use super::super::image::Y;",
        Path::new("tui/compare/mod.rs"),
    );
    assert_eq!(used.into_iter().collect::<Vec<_>>(), ["image"]);
    let used = used_top_modules("use super::source::Y;", Path::new("app.rs"));
    assert_eq!(used.into_iter().collect::<Vec<_>>(), ["source"]);
}
