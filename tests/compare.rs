//! `analysis::compare` on image pairs built by the test helper; every expected diff is worked
//! out by hand from the specs, in the comment above it.

mod common;
use bathyscaphe::analysis::compare::{self, FileStatus, LayerStatus, PackageItem, Side};
use bathyscaphe::analysis::Analysis;
use bathyscaphe::image::{EntryKind, Image};
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use std::path::Path;

const STATUS_A: &[u8] = b"Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n\n";
const STATUS_B: &[u8] =
    b"Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10+deb12u5\n\n";

fn base() -> LayerSpec {
    LayerSpec::new("ADD rootfs /")
        .dir("etc")
        .file("etc/os-release", b"ID=demo\n")
        .dir("usr")
        .dir("usr/bin")
        .file_sized("usr/bin/tool", 1000, 1)
        .file("var/lib/dpkg/status", STATUS_A)
}

fn install() -> LayerSpec {
    LayerSpec::new("RUN apt-get install -y curl")
        .file_sized("usr/bin/curl", 2000, 2)
        .file("etc/conf", &[b'c'; 50])
        .file_sized("data", 300, 3)
}

/// A: base, install, app v1. B: base, install, app v2, then a layer that chmods `etc/conf`,
/// upgrades curl's status entry and turns the file `data` into a directory.
fn pair() -> (ImageSpec, ImageSpec) {
    let a = ImageSpec::new("app:1")
        .layer(base())
        .layer(install())
        .layer(
            LayerSpec::new("COPY app /app")
                .file_sized("app/server", 5000, 4)
                .file_sized("app/old.txt", 100, 5),
        );
    let b = ImageSpec::new("app:2")
        .layer(base())
        .layer(install())
        .layer(
            LayerSpec::new("COPY app /app")
                .file_sized("app/server", 6000, 6)
                .file_sized("app/new.txt", 200, 7),
        )
        .layer(
            LayerSpec::new("RUN chmod 600 /etc/conf && apt-get upgrade -y")
                .file_mode("etc/conf", &[b'c'; 50], 0o600)
                .file("var/lib/dpkg/status", STATUS_B)
                .dir("data")
                .file_sized("data/x", 10, 8),
        );
    (a, b)
}

fn load(dir: &Path, name: &str, spec: &ImageSpec, f: ArchiveFormat, c: Compression) -> Image {
    let p = dir.join(name);
    spec.write(&p, f, c).expect("write archive");
    load_path(&p, &LoadOptions::default()).expect("load archive")
}

/// The changed paths, in the order of `c.files.changes`.
fn paths_of(c: &compare::Comparison) -> Vec<String> {
    c.files
        .changes
        .iter()
        .map(|x| c.files.path(x.node))
        .collect()
}

fn compare_specs(a: &ImageSpec, b: &ImageSpec) -> compare::Comparison {
    let t = tmp();
    let ia = load(
        t.path(),
        "a.tar",
        a,
        ArchiveFormat::DockerArchive,
        Compression::None,
    );
    let ib = load(
        t.path(),
        "b.tar",
        b,
        ArchiveFormat::DockerArchive,
        Compression::None,
    );
    let (aa, ab) = (Analysis::run(&ia), Analysis::run(&ib));
    compare::compare(&Side::new(&ia, &aa), &Side::new(&ib, &ab))
}

#[test]
fn shared_prefix_then_a_rebuilt_layer_and_a_new_one() {
    let (a, b) = pair();
    let c = compare_specs(&a, &b);
    // base and install are byte-identical tars on both sides: same diff_ids
    assert_eq!(c.layers.shared.len(), 2);
    assert_eq!(c.layers.shared[1].command, "RUN apt-get install -y curl");
    // shared bytes: base 8 + 1000 + 63 (status) ; install 2000 + 50 + 300
    assert_eq!(
        c.layers.shared_bytes,
        8 + 1000 + STATUS_A.len() as u64 + 2000 + 50 + 300
    );
    let st: Vec<LayerStatus> = c.layers.rows.iter().map(|r| r.status).collect();
    assert_eq!(st, [LayerStatus::Rebuilt, LayerStatus::Added]);
    let rebuilt = &c.layers.rows[0];
    assert_eq!(
        rebuilt.a.as_ref().map(|r| (r.index, r.size_bytes)),
        Some((2, 5100))
    );
    assert_eq!(
        rebuilt.b.as_ref().map(|r| (r.index, r.size_bytes)),
        Some((2, 6200))
    );
    assert_eq!(rebuilt.delta_bytes(), 1100);
    // the added layer: 50 + status B + 10
    assert_eq!(
        c.layers.rows[1].b.as_ref().map(|r| r.size_bytes),
        Some(60 + STATUS_B.len() as u64)
    );
}

#[test]
fn final_filesystems_diff_exactly() {
    let (a, b) = pair();
    let c = compare_specs(&a, &b);
    let paths = paths_of(&c);
    let got: Vec<(&str, FileStatus, Vec<&str>, bool, i64)> = c
        .files
        .changes
        .iter()
        .zip(&paths)
        .map(|(x, path)| {
            (
                path.as_str(),
                x.status,
                x.changed.iter().map(|k| k.as_str()).collect(),
                x.metadata_only,
                x.delta_bytes,
            )
        })
        .collect();
    let status_delta = STATUS_B.len() as i64 - STATUS_A.len() as i64; // "+deb12u5" = 8
    assert_eq!(status_delta, 8);
    assert_eq!(
        got,
        vec![
            ("/app/new.txt", FileStatus::Added, vec![], false, 200),
            ("/app/old.txt", FileStatus::Removed, vec![], false, -100),
            (
                "/app/server",
                FileStatus::Modified,
                vec!["content"],
                false,
                1000
            ),
            // a 300-byte file became a directory: its bytes are gone, its child is new
            (
                "/data",
                FileStatus::Modified,
                vec!["type", "mode"],
                false,
                -300
            ),
            ("/data/x", FileStatus::Added, vec![], false, 10),
            ("/etc/conf", FileStatus::Modified, vec!["mode"], true, 0),
            (
                "/var/lib/dpkg/status",
                FileStatus::Modified,
                vec!["content"],
                false,
                8
            ),
        ]
    );
    // the file→dir change keeps both states
    let data = c.files.change("/data").expect("/data changed");
    assert_eq!(
        data.a.as_ref().map(|s| (s.kind, s.size)),
        Some((EntryKind::File, 300))
    );
    assert_eq!(data.b.as_ref().map(|s| s.kind), Some(EntryKind::Dir));
    let conf = c.files.change("/etc/conf").expect("/etc/conf changed");
    assert_eq!(conf.a.as_ref().map(|s| s.mode), Some(0o644));
    assert_eq!(conf.b.as_ref().map(|s| s.mode), Some(0o600));

    let t = c.files.totals();
    assert_eq!(
        (t.added, t.removed, t.modified, t.metadata_only),
        (2, 1, 4, 1)
    );
    // in: new.txt 200 + server 6000 + data/x 10 + status 71 ; out: old.txt 100 + server 5000 + data 300 + status 63
    assert_eq!(t.added_bytes, 200 + 6000 + 10 + STATUS_B.len() as u64);
    assert_eq!(t.removed_bytes, 100 + 5000 + 300 + STATUS_A.len() as u64);
    assert_eq!(t.delta_bytes, 200 - 100 + 1000 - 300 + 10 + 8);
    // headline: B's layers minus A's = (6200 + 50 + 71 + 10) - 5100 = 1231; of that, 818 is the
    // final filesystem's growth and 413 bytes B still ships but hides: the 50-byte conf, the
    // 63-byte status and the 300-byte data file of the install layer
    assert_eq!(c.headline.delta.size_bytes, 1231);
    assert_eq!(c.headline.delta.layers, 1);
    assert_eq!(c.headline.delta.final_bytes, 818);
    assert_eq!(c.headline.delta.true_wasted_bytes, 413);
}

#[test]
fn file_diff_looks_only_at_paths_touched_past_the_shared_prefix() {
    let (a, b) = pair();
    let c = compare_specs(&a, &b);
    // A's app layer: /app, /app/server, /app/old.txt; B adds /app/new.txt and, from its last
    // layer, /etc/conf, /var/lib/dpkg/status, /data, /data/x: 8 paths. The base's and install's
    // paths (/usr/bin/tool, /etc/os-release, …) are never looked at.
    assert_eq!(c.files.candidates, 8);
}

#[test]
fn diff_tree_rolls_up_by_directory_largest_churn_first() {
    let (a, b) = pair();
    let c = compare_specs(&a, &b);
    // churn: /app 6200 + 5100 = 11300; /data 300 + 10 = 310; /var 71 + 63 = 134; /etc 0
    let top: Vec<(&str, u64)> = c
        .files
        .dirs_at_depth(1)
        .iter()
        .map(|n| (n.name.as_str(), n.rollup.churn_bytes()))
        .collect();
    assert_eq!(
        top,
        vec![("app", 11300), ("data", 310), ("var", 134), ("etc", 0)]
    );
    let app = c.files.dirs_at_depth(1)[0];
    assert_eq!(
        (app.rollup.added, app.rollup.removed, app.rollup.modified),
        (1, 1, 1)
    );
    assert_eq!(app.rollup.delta_bytes, 1100);
    // flattened rows: children by churn, /app's largest first (server 11000, new 200, old 100)
    let rows = c.files.rows(&Default::default());
    let names: Vec<(usize, &str)> = rows
        .iter()
        .map(|r| (r.depth, c.files.tree[r.node].name.as_str()))
        .collect();
    assert_eq!(
        names[..4],
        [(0, "app"), (1, "server"), (1, "new.txt"), (1, "old.txt")]
    );
    // collapsing /app hides its children
    let collapsed = [rows[0].node].into_iter().collect();
    assert_eq!(c.files.rows(&collapsed)[1].depth, 0);
    // the top changed files by churn
    let files: Vec<String> = c
        .files
        .top_files()
        .iter()
        .take(3)
        .map(|f| c.files.path(f.node))
        .collect();
    assert_eq!(files, ["/app/server", "/data", "/app/new.txt"]);
}

#[test]
fn same_image_in_two_formats_has_no_differences() {
    // gzip and zstd blobs of the same tars: different digests, same diff_ids
    let (a, _) = pair();
    let t = tmp();
    let ia = load(
        t.path(),
        "a.tar",
        &a,
        ArchiveFormat::DockerArchive,
        Compression::None,
    );
    let ib = load(
        t.path(),
        "b.tar",
        &a,
        ArchiveFormat::OciArchive,
        Compression::Zstd,
    );
    let (aa, ab) = (Analysis::run(&ia), Analysis::run(&ib));
    let c = compare::compare(&Side::new(&ia, &aa), &Side::new(&ib, &ab));
    assert_eq!(c.layers.shared.len(), 3);
    assert!(c.layers.rows.is_empty());
    assert!(c.files.changes.is_empty());
    assert_eq!(c.files.candidates, 0);
    assert_eq!(c.headline.delta.size_bytes, 0);
    assert!(
        c.headline.delta.compressed_bytes < 0,
        "zstd blobs are smaller than plain tars"
    );
}

#[test]
fn a_changed_instruction_pairs_up_and_identical_layers_after_it_are_same() {
    let common_copy = LayerSpec::new("COPY . /app").file("app/main.sh", b"echo hi\n");
    let a = ImageSpec::new("x:1")
        .layer(base())
        .layer(LayerSpec::new("RUN apt-get install -y gcc").file_sized("usr/bin/gcc", 700, 9))
        .layer(common_copy.clone());
    let b = ImageSpec::new("x:2")
        .layer(base())
        .layer(LayerSpec::new("RUN apt-get install -y clang").file_sized("usr/bin/clang", 900, 10))
        .layer(common_copy);
    let c = compare_specs(&a, &b);
    assert_eq!(c.layers.shared.len(), 1);
    let rows: Vec<(LayerStatus, String, String)> = c
        .layers
        .rows
        .iter()
        .map(|r| {
            (
                r.status,
                r.a.as_ref().map(|x| x.command.clone()).unwrap_or_default(),
                r.b.as_ref().map(|x| x.command.clone()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                LayerStatus::Changed,
                "RUN apt-get install -y gcc".into(),
                "RUN apt-get install -y clang".into()
            ),
            (
                LayerStatus::Same,
                "COPY . /app".into(),
                "COPY . /app".into()
            ),
        ]
    );
    let paths = paths_of(&c);
    let paths: Vec<(&str, FileStatus)> = c
        .files
        .changes
        .iter()
        .zip(&paths)
        .map(|(x, path)| (path.as_str(), x.status))
        .collect();
    assert_eq!(
        paths,
        [
            ("/usr/bin/clang", FileStatus::Added),
            ("/usr/bin/gcc", FileStatus::Removed)
        ]
    );
}

#[test]
fn different_bases_still_diff_correctly_without_a_shared_prefix() {
    // no shared layer: every path is a candidate; only os-release differs (content)
    let a = ImageSpec::new("x:1").layer(
        LayerSpec::new("ADD rootfs /")
            .file("etc/os-release", b"ID=one\n")
            .file("bin/sh", b"sh"),
    );
    let b = ImageSpec::new("x:2").layer(
        LayerSpec::new("ADD rootfs /")
            .file("etc/os-release", b"ID=two\n")
            .file("bin/sh", b"sh"),
    );
    let c = compare_specs(&a, &b);
    assert_eq!(c.layers.shared.len(), 0);
    assert_eq!(c.layers.rows[0].status, LayerStatus::Rebuilt);
    let paths = paths_of(&c);
    let got: Vec<(&str, Vec<&str>, i64)> = c
        .files
        .changes
        .iter()
        .zip(&paths)
        .map(|(x, path)| {
            (
                path.as_str(),
                x.changed.iter().map(|k| k.as_str()).collect(),
                x.delta_bytes,
            )
        })
        .collect();
    // same size (7 bytes), different hash: content changed, delta 0
    assert_eq!(got, vec![("/etc/os-release", vec!["content"], 0)]);
}

#[test]
fn whiteouts_and_owner_changes_in_the_last_layer() {
    let a = ImageSpec::new("x:1").layer(base()).layer(install());
    let b = ImageSpec::new("x:2").layer(base()).layer(install()).layer(
        LayerSpec::new("RUN rm -rf /usr/bin/curl && chown 1000:1000 /etc/os-release")
            .whiteout("usr/bin/curl")
            .file_owned("etc/os-release", b"ID=demo\n", 0o644, 1000, 1000),
    );
    let c = compare_specs(&a, &b);
    let paths = paths_of(&c);
    let got: Vec<(&str, FileStatus, Vec<&str>, bool, i64)> = c
        .files
        .changes
        .iter()
        .zip(&paths)
        .map(|(x, path)| {
            (
                path.as_str(),
                x.status,
                x.changed.iter().map(|k| k.as_str()).collect(),
                x.metadata_only,
                x.delta_bytes,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "/etc/os-release",
                FileStatus::Modified,
                vec!["owner"],
                true,
                0
            ),
            ("/usr/bin/curl", FileStatus::Removed, vec![], false, -2000),
        ]
    );
    // the image did not shrink: the bytes are still shipped in the install layer (true waste)
    assert_eq!(c.headline.delta.size_bytes, 8);
    assert_eq!(c.headline.delta.true_wasted_bytes, 2000 + 8);
}

#[test]
fn packages_and_leftovers_compare_only_when_both_sides_have_them() {
    let (a, b) = pair();
    let t = tmp();
    let ia = load(
        t.path(),
        "a.tar",
        &a,
        ArchiveFormat::DockerArchive,
        Compression::None,
    );
    let ib = load(
        t.path(),
        "b.tar",
        &b,
        ArchiveFormat::DockerArchive,
        Compression::None,
    );
    let (aa, ab) = (Analysis::run(&ia), Analysis::run(&ib));
    let c = compare::compare(&Side::new(&ia, &aa), &Side::new(&ib, &ab));
    assert!(c.packages.is_none() && c.leftovers.is_none() && c.headline.a.leftover_bytes.is_none());
    // TODO(issue 6): build the package list from the dpkg status in the images once package
    // attribution lands; until then the package upgrade is fed in by hand.
    let p = |v: &str| {
        vec![PackageItem {
            manager: bathyscaphe::analysis::packages::Manager::Dpkg,
            name: "curl".into(),
            version: v.into(),
            bytes: 2000,
        }]
    };
    let sa = Side::new(&ia, &aa)
        .with_packages(p("7.88.1-10"))
        .with_leftovers(vec![]);
    let sb = Side::new(&ib, &ab)
        .with_packages(p("7.88.1-10+deb12u5"))
        .with_leftovers(vec![]);
    let c = compare::compare(&sa, &sb);
    let pk = c.packages.expect("packages compared");
    assert_eq!(pk.upgraded.len(), 1);
    assert_eq!(
        pk.upgraded[0].to_version.as_deref(),
        Some("7.88.1-10+deb12u5")
    );
    assert_eq!(c.headline.delta.leftover_bytes, Some(0));
}

/// Per layer: digest, diff_id, compression, compressed/tar/size bytes, entry count, entries.
type LayerFacts = (
    String,
    String,
    String,
    u64,
    u64,
    u64,
    usize,
    Vec<(String, u64, u64)>,
);

fn layer_facts(img: &Image) -> Vec<LayerFacts> {
    img.layers
        .iter()
        .map(|l| {
            let entries = l
                .entries
                .iter()
                .map(|e| (img.paths.path(e.node), e.size, e.hash))
                .collect();
            (
                l.digest.clone(),
                l.diff_id.clone(),
                format!("{:?}", l.compression),
                l.compressed_bytes,
                l.tar_bytes,
                l.size_bytes,
                l.entries.len(),
                entries,
            )
        })
        .collect()
}

#[test]
fn a_layer_cache_reads_shared_layers_once_and_loads_the_same_image() {
    use bathyscaphe::source::LayerCache;
    let (a, b) = pair();
    let t = tmp();
    let (pa, pb) = (t.path().join("a.tar"), t.path().join("b.tar"));
    // A's blobs are gzip, B's zstd: the shared layers have the same diff_ids, other digests
    a.write(&pa, ArchiveFormat::DockerOciArchive, Compression::Gzip)
        .expect("write a");
    b.write(&pb, ArchiveFormat::OciArchive, Compression::Zstd)
        .expect("write b");
    let cold = load_path(&pb, &LoadOptions::default()).expect("load b");
    let cache = LayerCache::new();
    let opts = LoadOptions {
        cache: Some(cache.clone()),
        ..Default::default()
    };
    load_path(&pa, &opts).expect("load a");
    assert_eq!((cache.len(), cache.hits()), (3, 0));
    let warm = load_path(&pb, &opts).expect("load b");
    // base and install come from the cache; B's app and last layer are read
    assert_eq!(cache.hits(), 2);
    assert_eq!(layer_facts(&warm), layer_facts(&cold));
    assert!(warm
        .layers
        .iter()
        .all(|l| l.compression == bathyscaphe::image::Compression::Zstd));
}

#[test]
fn without_verification_plain_layers_are_not_shared_but_load_the_same() {
    use bathyscaphe::source::LayerCache;
    let (a, b) = pair();
    let t = tmp();
    let (pa, pb) = (t.path().join("a.tar"), t.path().join("b.tar"));
    a.write(&pa, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write a");
    b.write(&pb, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write b");
    let plain = LoadOptions {
        verify: false,
        ..Default::default()
    };
    let cold = load_path(&pb, &plain).expect("load b");
    let cache = LayerCache::new();
    let opts = LoadOptions {
        verify: false,
        cache: Some(cache.clone()),
        ..Default::default()
    };
    load_path(&pa, &opts).expect("load a");
    let warm = load_path(&pb, &opts).expect("load b");
    // header-only layers hash their contents later from their own archive: never cached
    assert_eq!(cache.hits(), 0);
    assert_eq!(layer_facts(&warm), layer_facts(&cold));
}

#[test]
fn a_multi_stage_rewrite_drops_the_toolchain_and_moves_the_binary() {
    // A: single stage, toolchain and binary together. B: FROM scratch, the same binary copied
    // to /server, a rebuilt helper at /bin/helper (same name, other content), and /bin/tool.
    let a = ImageSpec::new("app:single").layer(base()).layer(
        LayerSpec::new("RUN go build -o /app/server .")
            .file_sized("usr/lib/go/bin/go", 5000, 20)
            .file_sized("app/server", 3000, 21)
            .file_sized("app/helper", 400, 22)
            .file_sized("app/tool", 10, 24),
    );
    let b = ImageSpec::new("app:multi").layer(
        LayerSpec::new("COPY --from=builder /app/server /server")
            .file_sized("server", 3000, 21)
            .file_sized("bin/helper", 300, 23)
            .file_sized("bin/tool", 10, 24),
    );
    let c = compare_specs(&a, &b);
    // no common instruction: A's two layers are removed, B's one added, none paired
    let st: Vec<LayerStatus> = c.layers.rows.iter().map(|r| r.status).collect();
    assert_eq!(
        st,
        [
            LayerStatus::Removed,
            LayerStatus::Removed,
            LayerStatus::Added
        ]
    );
    let moves: Vec<(&str, &str, bool, u64, u64)> = c
        .files
        .moves
        .iter()
        .map(|m| {
            (
                m.from.as_str(),
                m.to.as_str(),
                m.same_content,
                m.from_bytes,
                m.to_bytes,
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("/app/server", "/server", true, 3000, 3000),
            ("/app/helper", "/bin/helper", false, 400, 300),
            // /bin/tool is /app/tool byte for byte, though the base's /usr/bin/tool shares its name
            ("/app/tool", "/bin/tool", true, 10, 10),
        ]
    );
    assert!(c
        .files
        .change("/usr/lib/go/bin/go")
        .is_some_and(|x| x.status == FileStatus::Removed));
    // removed: base's 8 + 1000 + 63 and A's 5000 + 3000 + 400 + 10; added: 3000 + 300 + 10
    let t = c.files.totals();
    assert_eq!(t.removed_bytes, 8 + 1000 + STATUS_A.len() as u64 + 8410);
    assert_eq!(t.added_bytes, 3310);
}

#[test]
fn changes_are_found_by_node_in_either_image() {
    let (a, b) = pair();
    let t = tmp();
    let ia = load(
        t.path(),
        "a.tar",
        &a,
        ArchiveFormat::DockerArchive,
        Compression::None,
    );
    let ib = load(
        t.path(),
        "b.tar",
        &b,
        ArchiveFormat::DockerArchive,
        Compression::None,
    );
    let (aa, ab) = (Analysis::run(&ia), Analysis::run(&ib));
    let c = compare::compare(&Side::new(&ia, &aa), &Side::new(&ib, &ab));
    let (by_a, by_b) = c.files.index_by_node();
    let old = ia.paths.lookup("app/old.txt").expect("in A");
    let new = ib.paths.lookup("app/new.txt").expect("in B");
    let conf_b = ib.paths.lookup("etc/conf").expect("in B");
    assert_eq!(
        c.files.path(c.files.changes[by_a[&old]].node),
        "/app/old.txt"
    );
    assert_eq!(
        c.files.path(c.files.changes[by_b[&new]].node),
        "/app/new.txt"
    );
    assert!(c.files.changes[by_b[&conf_b]].metadata_only);
    // an unchanged path has no entry
    assert!(!by_b.contains_key(&ib.paths.lookup("usr/bin/tool").expect("in B")));
}

/// Bytes held by this thread's allocations, and the most it held since [`peak_during`]
/// started: what one comparison costs, whatever the other tests of this binary allocate.
mod held {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static LIVE: Cell<i64> = const { Cell::new(0) };
        static PEAK: Cell<i64> = const { Cell::new(0) };
    }

    fn note(delta: i64) {
        let _ = LIVE.try_with(|live| {
            let now = live.get() + delta;
            live.set(now);
            let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        });
    }

    pub struct Counting;

    // SAFETY: every call goes to the system allocator unchanged; only sizes are counted.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            note(l.size() as i64);
            unsafe { System.alloc(l) }
        }
        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            note(l.size() as i64);
            unsafe { System.alloc_zeroed(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            note(-(l.size() as i64));
            unsafe { System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            note(new as i64 - l.size() as i64);
            unsafe { System.realloc(p, l, new) }
        }
    }

    /// Run `f`; the most bytes this thread held beyond what it held before.
    pub fn peak_during<R>(f: impl FnOnce() -> R) -> (R, i64) {
        let start = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(start));
        let r = f();
        (r, PEAK.with(Cell::get) - start)
    }
}

#[global_allocator]
static ALLOCATOR: held::Counting = held::Counting;

/// The most bytes comparing A with B (a file under `depth` directories) holds at once,
/// per directory; with the JSON document written to a sink when `json`.
fn held_per_directory(depth: usize, json: bool) -> (compare::Comparison, String, i64) {
    let deep = vec!["d"; depth].join("/");
    let a = ImageSpec::new("deep:1").layer(base());
    let b = ImageSpec::new("deep:2")
        .layer(base())
        .layer(LayerSpec::new("RUN deep").file_sized(&format!("{deep}/f"), 10, 1));
    let t = tmp();
    let (f, c) = (ArchiveFormat::DockerArchive, Compression::None);
    let (ia, ib) = (
        load(t.path(), "a.tar", &a, f, c),
        load(t.path(), "b.tar", &b, f, c),
    );
    let (aa, ab) = (Analysis::run(&ia), Analysis::run(&ib));
    let ((c, text), peak) = held::peak_during(|| {
        let c = compare::compare(&Side::new(&ia, &aa), &Side::new(&ib, &ab));
        let text = bathyscaphe::report::compare_text::render(&c);
        if json {
            // the JSON lists every path, depth² bytes: written as it is made
            let doc = bathyscaphe::report::compare_json::build(&c, None);
            serde_json::to_writer(std::io::sink(), &doc).expect("json to a sink");
        }
        (c, text)
    });
    (c, text, peak / depth as i64)
}

#[test]
fn a_deep_path_costs_memory_linear_in_its_depth() {
    // B adds one file under 20,000 directories (a 40 KB path, one tar entry, the directories
    // implicit): 20,001 added paths. Their paths held at once would be
    // 2 + 4 + … + 40,000 ≈ DEPTH² = 400 MB, 20 KB per directory; a node per directory is a
    // few hundred bytes.
    const DEPTH: usize = 20_000;
    let (c, text, per_dir) = held_per_directory(DEPTH, false);
    let totals = c.files.totals();
    assert_eq!(
        (totals.added, totals.removed, totals.modified),
        (DEPTH + 1, 0, 0)
    );
    assert_eq!(totals.added_bytes, 10);
    // the root, the directories and the file
    assert_eq!(c.files.tree.len(), DEPTH + 2);
    let deep = vec!["d"; DEPTH].join("/");
    let file = c.files.change(&format!("/{deep}/f")).expect("the file");
    assert_eq!(c.files.path(file.node).len(), 2 * DEPTH + 2);
    assert!(text.contains("Files: 20001 added, 0 removed"), "{text}");
    assert!(
        per_dir < 4096,
        "comparing held {per_dir} bytes per directory"
    );
    // the JSON too (3,000 deep, as its 18 MB of output take a while to escape in a debug
    // build): every path held at once would be 3 KB per directory
    let (_, _, per_dir) = held_per_directory(3_000, true);
    assert!(
        per_dir < 2048,
        "the JSON held {per_dir} bytes per directory"
    );
}
