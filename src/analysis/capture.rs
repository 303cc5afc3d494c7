//! The few file contents the "why is it big" analyses need, kept while layers are read once:
//! package databases, manifests, and for ELF files only the facts ld.so would use.

use crate::source::Capture;
use goblin::elf::{dynamic::Dynamic, program_header, Elf, ProgramHeader};
use goblin::strtab::Strtab;
use std::sync::Arc;

/// Text files above this size are not kept (a dpkg status of 5000 packages is ~10 MB).
pub const TEXT_CAP: u64 = 32 << 20;
/// Manifests and file lists above this size are not kept.
pub const SMALL_CAP: u64 = 4 << 20;
/// ELF files are buffered whole (only while their facts are parsed) up to this size.
pub const ELF_CAP: u64 = 1 << 30;

const ELF_MAGIC: &[u8] = b"\x7fELF";
/// Prefix of what is kept for an ELF file: a few lines of `key=value`.
pub const ELF_TAG: &[u8] = b"ELF\n";
/// Prefix of what is kept for a script: its `#!` line.
pub const SHEBANG_TAG: &[u8] = b"#!";

/// The capture the why-analyses need. Pass it in `LoadOptions::capture`.
#[derive(Debug, Default)]
pub struct WhyCapture;

/// `Some(Arc<WhyCapture>)`, ready for `LoadOptions::capture`.
pub fn why_capture() -> Arc<dyn Capture> {
    Arc::new(WhyCapture)
}

/// Is this path a file whose whole text the analyses read?
pub fn is_wanted_text(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path == "var/lib/dpkg/status"
        || path.starts_with("var/lib/dpkg/status.d/")
        || (path.starts_with("var/lib/dpkg/info/") && name.ends_with(".list"))
        || path == "lib/apk/db/installed"
        || path == "var/lib/apt/extended_states"
        || path == "etc/apk/world"
        || path == "etc/ld.so.conf"
        || (path.starts_with("etc/ld.so.conf.d/") && name.ends_with(".conf"))
        || name == "package.json"
        || (name == "RECORD" && path.contains(".dist-info/"))
        || (name == "installed-files.txt" && path.contains(".egg-info/"))
}

impl Capture for WhyCapture {
    fn wants(&self, path: &str, size: u64, head: &[u8]) -> bool {
        if head.starts_with(ELF_MAGIC) {
            return size <= ELF_CAP;
        }
        if head.starts_with(SHEBANG_TAG) {
            return true;
        }
        let cap = if path == "var/lib/dpkg/status" || path == "lib/apk/db/installed" {
            TEXT_CAP
        } else {
            SMALL_CAP
        };
        size <= cap && is_wanted_text(path)
    }

    fn keep(&self, _path: &str, content: Vec<u8>) -> Option<Vec<u8>> {
        if content.starts_with(ELF_MAGIC) {
            return Some(
                ElfFacts::parse(&content)
                    .map(|f| f.encode())
                    .unwrap_or_else(|| ELF_TAG.to_vec()),
            );
        }
        if content.starts_with(SHEBANG_TAG) && !content.starts_with(b"#!/usr/bin/env node\n{") {
            let end = content
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(content.len())
                .min(512);
            return Some(content[..end].to_vec());
        }
        Some(content)
    }
}

/// What ld.so needs to know about an ELF file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElfFacts {
    /// `PT_INTERP`: the program interpreter (absent: static or a shared library).
    pub interp: Option<String>,
    /// `DT_NEEDED` entries, in order.
    pub needed: Vec<String>,
    /// `DT_RUNPATH` or, when absent, `DT_RPATH`, split at `:`.
    pub runpath: Vec<String>,
    pub soname: Option<String>,
}

impl ElfFacts {
    /// Read the program headers and the dynamic section only (no symbols, no relocations).
    pub fn parse(bytes: &[u8]) -> Option<ElfFacts> {
        let header = Elf::parse_header(bytes).ok()?;
        let ctx = goblin::container::Ctx::new(header.container().ok()?, header.endianness().ok()?);
        let phdrs =
            ProgramHeader::parse(bytes, header.e_phoff as usize, header.e_phnum as usize, ctx)
                .ok()?;
        let mut facts = ElfFacts::default();
        for ph in &phdrs {
            if ph.p_type == program_header::PT_INTERP && ph.p_filesz > 1 {
                let start = ph.p_offset as usize;
                let end = start.checked_add(ph.p_filesz as usize - 1)?;
                let raw = bytes.get(start..end)?;
                let raw = raw.split(|&b| b == 0).next().unwrap_or(raw);
                facts.interp = std::str::from_utf8(raw).ok().map(str::to_string);
            }
        }
        if let Ok(Some(dynamic)) = Dynamic::parse(bytes, &phdrs, ctx) {
            let info = &dynamic.info;
            if let Ok(strtab) = Strtab::parse(bytes, info.strtab, info.strsz, 0) {
                facts.needed = dynamic
                    .get_libraries(&strtab)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                if info.soname != 0 {
                    facts.soname = strtab.get_at(info.soname).map(str::to_string);
                }
                let (mut rpath, mut runpath) = (Vec::new(), Vec::new());
                for d in &dynamic.dyns {
                    let list = match d.d_tag {
                        goblin::elf::dynamic::DT_RPATH => &mut rpath,
                        goblin::elf::dynamic::DT_RUNPATH => &mut runpath,
                        _ => continue,
                    };
                    if let Some(p) = strtab.get_at(d.d_val as usize) {
                        list.extend(p.split(':').filter(|s| !s.is_empty()).map(str::to_string));
                    }
                }
                facts.runpath = if runpath.is_empty() { rpath } else { runpath };
            }
        }
        Some(facts)
    }

    /// `ELF\n` then `interp=`, `needed=`, `runpath=`, `soname=` lines.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = String::from("ELF\n");
        if let Some(i) = &self.interp {
            s += &format!("interp={i}\n");
        }
        for n in &self.needed {
            s += &format!("needed={n}\n");
        }
        for r in &self.runpath {
            s += &format!("runpath={r}\n");
        }
        if let Some(n) = &self.soname {
            s += &format!("soname={n}\n");
        }
        s.into_bytes()
    }

    /// The facts kept by [`WhyCapture`] (None: not an ELF file's facts).
    pub fn decode(kept: &[u8]) -> Option<ElfFacts> {
        let rest = kept.strip_prefix(ELF_TAG)?;
        let text = std::str::from_utf8(rest).ok()?;
        let mut f = ElfFacts::default();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("interp", v)) => f.interp = Some(v.to_string()),
                Some(("needed", v)) => f.needed.push(v.to_string()),
                Some(("runpath", v)) => f.runpath.push(v.to_string()),
                Some(("soname", v)) => f.soname = Some(v.to_string()),
                _ => {}
            }
        }
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_facts_of_a_real_dynamic_executable() {
        // the test binary itself: a dynamic ELF on Linux with an interpreter and libc
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let Ok(bytes) = std::fs::read(exe) else {
            return;
        };
        let f = ElfFacts::parse(&bytes).expect("an ELF file");
        if let Some(i) = &f.interp {
            assert!(i.contains("ld-"), "{i}");
            assert!(
                f.needed.iter().any(|n| n.starts_with("libc.so")),
                "{:?}",
                f.needed
            );
        }
        assert_eq!(ElfFacts::decode(&f.encode()), Some(f));
    }

    #[test]
    fn wants_databases_elf_and_scripts_only() {
        let c = WhyCapture;
        assert!(c.wants("var/lib/dpkg/status", 10, b"Package: x"));
        assert!(c.wants("app/node_modules/x/package.json", 10, b"{}"));
        assert!(c.wants("usr/bin/x", 100, b"\x7fELF...."));
        assert!(c.wants("usr/bin/script", 100, b"#!/bin/sh\n"));
        assert!(!c.wants("usr/share/doc/x/README", 10, b"hello"));
        assert_eq!(
            c.keep("s", b"#!/bin/sh -e\necho\n".to_vec()).as_deref(),
            Some(&b"#!/bin/sh -e"[..])
        );
    }
}

#[cfg(test)]
mod fake_elf_tests {
    use super::*;

    #[test]
    fn reads_the_testkit_elf() {
        let b = crate::testkit::fake_elf(
            Some("/lib64/ld-linux-x86-64.so.2"),
            &["libfoo.so.1", "libc.so.6"],
            Some("$ORIGIN/../lib"),
            4096,
        );
        assert_eq!(b.len(), 4096);
        let f = ElfFacts::parse(&b).expect("parses");
        assert_eq!(f.interp.as_deref(), Some("/lib64/ld-linux-x86-64.so.2"));
        assert_eq!(
            f.needed,
            vec!["libfoo.so.1".to_string(), "libc.so.6".to_string()]
        );
        assert_eq!(f.runpath, vec!["$ORIGIN/../lib".to_string()]);
        let s = ElfFacts::parse(&crate::testkit::fake_elf(None, &[], None, 100))
            .expect("static parses");
        assert_eq!(s, ElfFacts::default());
    }
}
