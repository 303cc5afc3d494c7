//! The few file contents the "why is it big" analyses need, kept while layers are read once:
//! package databases, manifests, the account list, for ELF files only the facts ld.so would
//! use, and for secret candidates only the kind and fingerprint of what they hold.

use crate::analysis::secrets::{self, SECRET_HEAD};
use crate::source::Capture;
use goblin::elf::{dynamic::Dynamic, program_header, Elf, ProgramHeader};
use goblin::strtab::Strtab;
use std::ops::Range;
use std::sync::Arc;

/// Text files above this size are not kept (a dpkg status of 5000 packages is ~10 MB).
pub const TEXT_CAP: u64 = 32 << 20;
/// Manifests and file lists above this size are not kept.
pub const SMALL_CAP: u64 = 4 << 20;
/// ELF files up to this size give facts (from bounded spans, see [`ELF_SPAN_CAP`]).
pub const ELF_CAP: u64 = 1 << 30;
/// Of each span of an ELF file that its facts come from (program headers, the dynamic section,
/// the segment holding the string table), at most this much is kept: real ones are KBs to a
/// few MB, and a dynamic section declaring a huge `DT_STRSZ` must not cost its declared size.
pub const ELF_SPAN_CAP: u64 = 16 << 20;

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
        || path == "etc/passwd"
        || path == "etc/ld.so.conf"
        || (path.starts_with("etc/ld.so.conf.d/") && name.ends_with(".conf"))
        || name == "package.json"
        || (name == "RECORD" && path.contains(".dist-info/"))
        || (name == "installed-files.txt" && path.contains(".egg-info/"))
}

/// Is this file read for the secrets it may hold? (Programs, scripts and the files the other
/// analyses read are not.)
fn secret_candidate(path: &str, size: u64, head: &[u8]) -> bool {
    !head.starts_with(ELF_MAGIC)
        && !head.starts_with(SHEBANG_TAG)
        && !is_wanted_text(path)
        && secrets::is_candidate(path, size, head)
}

impl Capture for WhyCapture {
    fn may_want(&self, path: &str, _size: u64, sniff: &[u8]) -> bool {
        sniff.starts_with(ELF_MAGIC) || sniff.starts_with(SHEBANG_TAG) || is_wanted_text(path)
    }

    fn wants(&self, path: &str, size: u64, head: &[u8]) -> bool {
        if secret_candidate(path, size, head) {
            return true;
        }
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

    fn ranges(&self, path: &str, size: u64, head: &[u8]) -> Option<Vec<Range<u64>>> {
        if secret_candidate(path, size, head) {
            // only the head: a 1 GB `.env` costs 64 KiB
            let head: Range<u64> = 0..SECRET_HEAD.min(size);
            return Some(vec![head]);
        }
        if head.starts_with(ELF_MAGIC) {
            // never the whole file: one whose program headers lie past the head gives no facts
            let whole_head = 0..head.len() as u64;
            Some(elf_ranges(head).unwrap_or_else(|| std::iter::once(whole_head).collect()))
        } else {
            None
        }
    }

    fn keep_parts(&self, path: &str, parts: Vec<(u64, Vec<u8>)>) -> Option<Vec<u8>> {
        let head = parts.first().filter(|p| p.0 == 0).map(|p| &p.1[..])?;
        if !head.starts_with(ELF_MAGIC) {
            // a secret candidate: keep what it holds, never its bytes
            return secrets::scan(path, head).map(|d| d.encode());
        }
        Some(
            ElfFacts::parse_parts(&parts)
                .map(|f| f.encode())
                .unwrap_or_else(|| ELF_TAG.to_vec()),
        )
    }

    fn keep(&self, _path: &str, content: Vec<u8>) -> Option<Vec<u8>> {
        if content.starts_with(ELF_MAGIC) {
            // bounded reads of the spans, never goblin's whole-file parsers
            return Some(
                ElfFacts::parse_parts(&[(0, content)])
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

/// The ELF header and program headers read from a file's first bytes.
fn headers(head: &[u8]) -> Option<(goblin::container::Ctx, Vec<ProgramHeader>)> {
    let header = Elf::parse_header(head).ok()?;
    let ctx = goblin::container::Ctx::new(header.container().ok()?, header.endianness().ok()?);
    let phdrs =
        ProgramHeader::parse(head, header.e_phoff as usize, header.e_phnum as usize, ctx).ok()?;
    Some((ctx, phdrs))
}

/// The spans of an ELF file its facts come from, known from the head alone (None: the
/// program headers lie outside the head; buffer the whole file). The dynamic string table's
/// place is only known once the dynamic section is read, which comes after it in the file, so
/// the segments that hold it in the linkers' layouts (the first `PT_LOAD`, or after an
/// executable first one, the read-only ones) are kept while they stream past; a static file
/// keeps nothing beyond the head. A table found elsewhere gives no `needed` (as a bad one).
fn elf_ranges(head: &[u8]) -> Option<Vec<Range<u64>>> {
    let (_, phdrs) = headers(head)?;
    // a declared size is no promise: each span is kept up to ELF_SPAN_CAP
    let span =
        |ph: &ProgramHeader| ph.p_offset..ph.p_offset.saturating_add(ph.p_filesz.min(ELF_SPAN_CAP));
    let mut out: Vec<Range<u64>> = Vec::with_capacity(phdrs.len() + 1);
    out.push(0..head.len() as u64);
    let dynamic = phdrs.iter().any(|p| p.p_type == program_header::PT_DYNAMIC);
    for ph in &phdrs {
        match ph.p_type {
            program_header::PT_INTERP | program_header::PT_DYNAMIC => out.push(span(ph)),
            _ => {}
        }
    }
    if dynamic {
        let loads = phdrs.iter().filter(|p| p.p_type == program_header::PT_LOAD);
        let (x, w) = (program_header::PF_X, program_header::PF_W);
        let first = loads.clone().min_by_key(|p| p.p_offset);
        if let Some(first) = first {
            out.push(span(first));
        }
        // a read-only first segment holds the table (GNU ld, lld: headers, .dynsym, .dynstr);
        // after an executable one (Go's own linker, old GNU ld) it may be a later read-only one
        if first.is_none_or(|f| f.p_flags & x != 0) {
            out.extend(loads.filter(|p| p.p_flags & (x | w) == 0).map(span));
        }
    }
    Some(out)
}

/// Bytes `off..off+len` of a file of which only `parts` (offset, bytes) were kept.
fn span_at(parts: &[(u64, Vec<u8>)], off: u64, len: u64) -> Option<&[u8]> {
    let (start, bytes) = parts.iter().rev().find(|(s, _)| *s <= off)?;
    let a = usize::try_from(off - start).ok()?;
    let b = a.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(a..b)
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

    /// The same facts as [`ElfFacts::parse`] from the spans [`elf_ranges`] chose.
    pub fn parse_parts(parts: &[(u64, Vec<u8>)]) -> Option<ElfFacts> {
        let head = parts.first().filter(|p| p.0 == 0).map(|p| &p.1[..])?;
        let (ctx, phdrs) = headers(head)?;
        let (wide, le) = (ctx.container.is_big(), ctx.le.is_little());
        let word = |b: &[u8]| -> u64 {
            match (wide, le) {
                (true, true) => u64::from_le_bytes(b.try_into().unwrap_or_default()),
                (true, false) => u64::from_be_bytes(b.try_into().unwrap_or_default()),
                (false, true) => u32::from_le_bytes(b.try_into().unwrap_or_default()) as u64,
                (false, false) => u32::from_be_bytes(b.try_into().unwrap_or_default()) as u64,
            }
        };
        let mut facts = ElfFacts::default();
        for ph in &phdrs {
            if ph.p_type == program_header::PT_INTERP && ph.p_filesz > 1 {
                let raw = span_at(parts, ph.p_offset, ph.p_filesz - 1)?;
                let raw = raw.split(|&b| b == 0).next().unwrap_or(raw);
                facts.interp = std::str::from_utf8(raw).ok().map(str::to_string);
            }
        }
        let Some(dph) = phdrs
            .iter()
            .find(|p| p.p_type == program_header::PT_DYNAMIC)
        else {
            return Some(facts);
        };
        let w = if wide { 8 } else { 4 };
        let Some(raw) = span_at(parts, dph.p_offset, dph.p_filesz) else {
            return Some(facts);
        };
        let mut dyns: Vec<(u64, u64)> = Vec::new();
        for e in raw.chunks_exact(2 * w) {
            let (tag, val) = (word(&e[..w]), word(&e[w..]));
            if tag == goblin::elf::dynamic::DT_NULL {
                break;
            }
            dyns.push((tag, val));
        }
        let get = |t: u64| dyns.iter().find(|d| d.0 == t).map(|d| d.1);
        use goblin::elf::dynamic::{
            DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME, DT_STRSZ, DT_STRTAB,
        };
        let (Some(addr), Some(strsz)) = (get(DT_STRTAB), get(DT_STRSZ)) else {
            return Some(facts);
        };
        // the table's virtual address, through the PT_LOAD that maps it, to a file offset
        let Some(stroff) = phdrs
            .iter()
            .filter(|p| p.p_type == program_header::PT_LOAD)
            .find(|p| addr >= p.p_vaddr && addr < p.p_vaddr.saturating_add(p.p_memsz))
            .map(|p| addr - p.p_vaddr + p.p_offset)
        else {
            return Some(facts);
        };
        let Some(strtab) = span_at(parts, stroff, strsz) else {
            return Some(facts);
        };
        let string = |i: u64| -> Option<String> {
            let rest = strtab.get(usize::try_from(i).ok()?..)?;
            let s = rest.split(|&b| b == 0).next().unwrap_or(rest);
            std::str::from_utf8(s).ok().map(str::to_string)
        };
        let (mut rpath, mut runpath) = (Vec::new(), Vec::new());
        for &(tag, val) in &dyns {
            match tag {
                DT_NEEDED => facts.needed.extend(string(val)),
                DT_SONAME => facts.soname = string(val),
                DT_RPATH | DT_RUNPATH => {
                    let list = if tag == DT_RPATH {
                        &mut rpath
                    } else {
                        &mut runpath
                    };
                    if let Some(p) = string(val) {
                        list.extend(p.split(':').filter(|s| !s.is_empty()).map(str::to_string));
                    }
                }
                _ => {}
            }
        }
        facts.runpath = if runpath.is_empty() { rpath } else { runpath };
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

#[cfg(test)]
mod span_tests {
    use super::*;
    use crate::source::layer::{parse_layer_with_progress, LayerParseOptions, CAPTURE_HEAD};
    use crate::source::Capture;
    use crate::testkit::{compress, filler, Compression, LayerSpec};
    use std::sync::Mutex;

    /// The kept spans of one file: (offset, bytes), as `keep_parts` gets them.
    type Parts = Vec<(u64, Vec<u8>)>;

    /// A capture that asks for what `inner` asks for (or, with `spans`, for those spans of
    /// every file) and records the parts the layer reader hands to `keep_parts`.
    #[derive(Debug)]
    struct Recording<C: Capture> {
        inner: C,
        spans: Option<Vec<Range<u64>>>,
        parts: Mutex<Vec<Parts>>,
    }

    impl<C: Capture> Capture for Recording<C> {
        fn wants(&self, path: &str, size: u64, head: &[u8]) -> bool {
            self.spans.is_some() || self.inner.wants(path, size, head)
        }
        fn keep(&self, path: &str, content: Vec<u8>) -> Option<Vec<u8>> {
            self.inner.keep(path, content)
        }
        fn ranges(&self, path: &str, size: u64, head: &[u8]) -> Option<Vec<Range<u64>>> {
            self.spans
                .clone()
                .or_else(|| self.inner.ranges(path, size, head))
        }
        fn keep_parts(&self, path: &str, parts: Vec<(u64, Vec<u8>)>) -> Option<Vec<u8>> {
            self.parts.lock().expect("lock").push(parts.clone());
            self.inner.keep_parts(path, parts)
        }
    }

    /// What the layer reader keeps of a file holding `bytes`, read from a layer compressed
    /// with `c` (its reads cut the file into chunks the spans straddle).
    fn read_parts(
        bytes: &[u8],
        c: Compression,
        spans: Option<Vec<Range<u64>>>,
    ) -> Option<Vec<(u64, Vec<u8>)>> {
        let layer = compress(&LayerSpec::new("x").file("f", bytes).tar(), c);
        let rec = Arc::new(Recording {
            inner: WhyCapture,
            spans,
            parts: Mutex::new(Vec::new()),
        });
        // no digests or content hashes: only the capture's path through the reader is tested
        let opts = LayerParseOptions {
            digests: false,
            content_hashes: false,
            capture: Some(rec.clone()),
            ..Default::default()
        };
        let pl = parse_layer_with_progress(&layer[..], "test", "layer", opts, None)
            .expect("layer reads");
        assert_eq!(pl.entries.len(), 1);
        let mut got = rec.parts.lock().expect("lock").clone();
        assert!(got.len() <= 1, "one file, kept once");
        got.pop()
    }

    /// What the layer reader keeps of `bytes` for the spans `ranges` asks for; each part is the
    /// file's own bytes at its offset, whatever the compression.
    fn kept_parts(bytes: &[u8]) -> Option<Vec<(u64, Vec<u8>)>> {
        let parts = read_parts(bytes, Compression::None, None)?;
        for (off, b) in &parts {
            assert_eq!(&bytes[*off as usize..*off as usize + b.len()], &b[..]);
        }
        // a big real binary is read plain only: inflating it would only slow the test
        if bytes.len() < 1 << 20 {
            assert_eq!(
                read_parts(bytes, Compression::Gzip, None).as_ref(),
                Some(&parts)
            );
        }
        Some(parts)
    }

    #[test]
    fn the_reader_keeps_spans_across_its_read_chunks() {
        // 300 000 bytes cross four 64 KiB read chunks; the spans straddle chunk ends, overlap,
        // touch, are empty or run past the end of the file
        let bytes = filler(300_000, 7);
        let c = CAPTURE_HEAD as u64;
        let spans = vec![
            10..70_000,
            65_530..65_540,
            70_000..70_100,
            2 * c - 72..2 * c + 28,
            200_000..200_000,
            299_990..400_000,
            500_000..600_000,
        ];
        let b = |r: Range<usize>| bytes[r].to_vec();
        let c = c as usize;
        let want = vec![
            (10, b(10..70_100)),
            (2 * c as u64 - 72, b(2 * c - 72..2 * c + 28)),
            (299_990, b(299_990..300_000)),
        ];
        for comp in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let got = read_parts(&bytes, comp, Some(spans.clone()));
            assert_eq!(got.as_ref(), Some(&want), "{comp:?}");
        }
    }

    fn same_as_whole(bytes: &[u8]) -> ElfFacts {
        let parts = kept_parts(bytes).expect("phdrs in the head");
        let kept: usize = parts.iter().map(|p| p.1.len()).sum();
        assert!(kept <= bytes.len());
        let f = ElfFacts::parse_parts(&parts).expect("parses");
        assert_eq!(Some(f.clone()), ElfFacts::parse(bytes));
        f
    }

    #[test]
    fn spans_of_testkit_elfs_give_the_whole_file_facts() {
        // bigger than the 64 KiB head (the fake's one PT_LOAD spans the whole file)
        let b = crate::testkit::fake_elf(
            Some("/lib/ld-musl-x86_64.so.1"),
            &["libz.so.1", "libc.musl-x86_64.so.1"],
            Some("/opt/lib:/usr/local/lib"),
            200_000,
        );
        let f = same_as_whole(&b);
        assert_eq!(f.needed, vec!["libz.so.1", "libc.musl-x86_64.so.1"]);
        assert_eq!(f.runpath, vec!["/opt/lib", "/usr/local/lib"]);
        let s = same_as_whole(&crate::testkit::fake_elf(None, &[], None, 100));
        assert_eq!(s, ElfFacts::default());
    }

    #[test]
    fn spans_of_real_binaries_give_the_whole_file_facts() {
        for p in [
            "/bin/ls",
            "/usr/sbin/dockerd",
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        ] {
            let Ok(bytes) = std::fs::read(p) else {
                continue;
            };
            let f = same_as_whole(&bytes);
            assert!(!f.needed.is_empty() || f.soname.is_some(), "{p}: {f:?}");
        }
        // a static file keeps its head only: the fake with its PT_DYNAMIC (2nd phdr) nulled
        let mut stat = crate::testkit::fake_elf(None, &[], None, 300_000);
        stat[64 + 56..64 + 56 + 4].copy_from_slice(&0u32.to_le_bytes());
        let parts = kept_parts(&stat).expect("headers");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].1.len(), crate::source::layer::CAPTURE_HEAD);
    }
}
