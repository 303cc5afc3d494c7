//! Every user-visible string of the explorer, in one place, so wording is reviewed (and one day
//! translated) without reading rendering code.

pub const LAYERS_TITLE: &str = " Layers ";
pub const LAYER_DETAILS_TITLE: &str = " Layer details ";
pub const IMAGE_DETAILS_TITLE: &str = " Image details ";
pub const TREE_TITLE_AGGREGATED: &str = " Layer {n}: everything up to it ";
pub const TREE_TITLE_CHANGES: &str = " Layer {n}: its changes only ";
/// The titles when the cursor's path needs their room.
pub const TREE_TITLE_AGGREGATED_SHORT: &str = " Layer {n}: all ";
pub const TREE_TITLE_CHANGES_SHORT: &str = " Layer {n}: changes ";
pub const HELP_TITLE: &str = " Keys (? or Esc to close) ";
pub const LOADING_TITLE: &str = " bathyscaphe ";

pub const MORE_BELOW: &str = " ↓ {n} more ";
pub const MORE_LINES: &str = " ↓ {n} more lines ";
pub const LAYERS_HEADER: [&str; 5] = ["#", "Size", "Compr.", "Waste", "Command"];
pub const TREE_HEADER_ATTRS: [&str; 4] = ["Permission", "UID:GID", "Size", "Name"];
pub const TREE_HEADER_PLAIN: [&str; 2] = ["Size", "Name"];
/// Image details' list: true waste, copies shipped, dive's count and total, the path.
pub const WASTED_HEADER: [&str; 5] = ["Wasted", "Copies", "dive", "dive total", "Path"];

pub const DETAIL_DIGEST: &str = "Digest";
pub const DETAIL_DIFF_ID: &str = "DiffID";
pub const DETAIL_CREATED: &str = "Created";
pub const DETAIL_ENTRIES: &str = "Entries";
pub const DETAIL_COMMAND: &str = "Command";
pub const DETAIL_SAME_AS_DIGEST: &str = "same as the digest";

pub const IMG_NAME: &str = "Image";
pub const IMG_SIZE: &str = "Size";
pub const IMG_COMPRESSED: &str = "compressed";
pub const IMG_TRUE_WASTE: &str = "True waste";
pub const IMG_DIVE_WASTED: &str = "dive's wasted";
pub const IMG_EFFICIENCY: &str = "dive's efficiency";
pub const IMG_NO_WASTE: &str = "No wasted bytes: every shipped file is visible at the end.";

pub const LEGEND: [&str; 4] = ["added", "modified", "removed", "unchanged"];
/// The legend's words where the full ones do not fit (the tree pane at 80 columns).
pub const LEGEND_SHORT: [&str; 4] = ["add", "mod", "rm", "same"];
pub const LEGEND_HIDDEN_SUFFIX: &str = " (hidden)";
pub const FILTER_PROMPT: &str = " Filter: ";
pub const FILTER_ACTIVE: &str = " filter: ";
pub const FILTER_MATCHES: &str = "{n} matches";
pub const FILTER_KEPT_HINT: &str = "Esc clears";
pub const FILTER_CLEARED: &str = "filter '{pattern}' cleared";
pub const WASTED_ONLY: &str = " wasted only ";
pub const SORT_SIZE: &str = " by size ";
pub const TREE_DETAIL_SIZE: &str = "{size} in all";
pub const TREE_DETAIL_MATCHING: &str = " · {size} match the filter";
pub const TREE_DETAIL_WASTED: &str = " · {size} wasted";
pub const TREE_DETAIL_LAYER: &str = " · set by layer {n}";
pub const TREE_EMPTY: &str = "Nothing to show: no path matches (Esc clears the filter).";

pub const LOADING: &str = "Loading {name}";
pub const LOADING_LAYERS: &str = "layers read: {done} of {total} · {entries} entries";
pub const LOADING_DOWNLOAD: &str = "  downloading {layer}";
pub const LOADING_DOWNLOADS_MORE: &str = "  and {n} more layers downloading";
pub const ANALYSING: &str = "Analysing…";
pub const LOADING_HINT: &str = "q quits; other keys apply once it is loaded";
pub const LOADING_KEYS_KEPT: &str = "q quits; {n} keys typed, applied once it is loaded";
/// The status line while the explorer shows the layers read so far.
pub const LOADING_STATUS: &str = "loading {pct} · {loaded} of {total} layers shown";
/// Appended to it while a layer downloads (a registry's).
pub const LOADING_STATUS_DOWNLOAD: &str = " · downloading {layer}";
/// A key that needs what is not read yet.
pub const NOT_LOADED_YET: &str = "{what} once every layer is read ({pct})";
pub const LAYER_NOT_LOADED_YET: &str = "layer {n} is still loading ({pct})";
pub const NEEDS_IMAGE_DETAILS: &str = "Image details come";
pub const NEEDS_WHY: &str = "\"Why is it big\" comes";
pub const NEEDS_WASTE: &str = "Wasted paths come";
/// The Layers pane's size column for a layer not shown yet: still reading it, or read and
/// waiting for an earlier one.
pub const LAYER_LOADING: &str = "loading";
pub const LAYER_READ: &str = "read";

/// Titles of the help's sections, in the order of `keys::Scope::ALL`.
pub const HELP_SCOPES: [(&str, &str); 11] = [
    ("Global", "Everywhere"),
    ("Layers", "Layers pane"),
    ("Tree", "File tree pane"),
    ("Wasted", "Image details: wasted paths"),
    ("Filter", "While typing a filter"),
    ("CompareLayers", "Layers (A and B side by side)"),
    ("CompareTree", "Files: B against A"),
    ("Why", "Why is it big"),
    ("Explorer", "Layers, tree and details"),
    ("Viewer", "File viewer"),
    ("ViewerSearch", "While typing a search"),
];
pub const HELP_MORE: &str = " ↓ more: j/k, PgDn ";
pub const HELP_TOP: &str = " ↑ PgUp, Home ";
pub const HELP_WASTE: &str = "True waste counts once the bytes of every file copy nobody sees in the final filesystem. dive's wasted bytes add up every copy of a path found in 2 or more layers, the visible copy included, and count a deleted directory only if the layer below had an entry for it: the two differ either way. \"Wasted\" and \"Copies\" are ours; \"dive\" and \"dive total\" are dive's count and total.";
pub const HELP_MOUSE: &str = "Mouse: click focuses a pane and selects a row; the wheel scrolls.";
pub const HELP_TYPE: &str = "While filtering, any other key is part of the pattern (regex, or substring when not a valid regex).";

pub const EXTRACT_NOT_FILE: &str = "only regular files can be extracted";
pub const EXTRACT_DONE: &str = "extracted {path} to ./{name} ({size})";
pub const EXTRACT_EXISTS: &str = "./{name} exists: not overwriting it";
pub const EXTRACT_FAILED: &str = "extract failed: {err}";
pub const EXTRACTING: &str = "extracting {path}…";
pub const EXTRACT_PROGRESS: &str = "extracting {path}: {progress}";
pub const JUMP_MISSING: &str = "{path} is not in the tree";
pub const PACKAGE_FILTER: &str = "package {name}";
pub const PACKAGE_SHOWN: &str =
    "{name}: its {n} files, at the layer that installed it (Esc: all files)";
pub const JUMP_LIFTED: &str = "{what} lifted to show {path}";
/// How a lifted setting is named in [`JUMP_LIFTED`].
pub const LIFTED_CHANGES_ONLY: &str = "changes only";
pub const LIFTED_FILTER: &str = "filter";
pub const LIFTED_WASTED: &str = "wasted only";
pub const LIFTED_HIDDEN: &str = "hidden marks";

/// `{key}` → value, for the strings above.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

// ---- the compare view (`bathy compare A B` on a terminal) --------------------------------

pub const CMP_TITLE: &str = " compare ";
pub const CMP_SHARED: &str = "shared layers: {n} ({bytes})";
pub const CMP_SIZE: &str = "Size";
pub const CMP_COMPRESSED: &str = "Compressed";
pub const CMP_LAYERS: &str = "Layers";
pub const CMP_FINAL: &str = "Final files";
pub const CMP_WASTE: &str = "True waste";
pub const CMP_EFFICIENCY: &str = "Efficiency";
pub const CMP_LEFTOVERS: &str = "Leftovers";
pub const CMP_POINTS: &str = "{d} pt";
pub const CMP_LAYERS_TITLE: &str = " Layers: A {a} │ B {b} ";
pub const CMP_LAYERS_HEADER: [&str; 6] = ["", "#", "Size", "A", "B", "B − A"];
/// By `LayerKind`: shared prefix, then the pair statuses.
pub const CMP_LAYER_STATUS: [&str; 6] =
    ["shared", "same", "rebuilt", "changed", "added", "removed"];
pub const CMP_NO_HISTORY: &str = crate::image::NO_HISTORY;
pub const CMP_NO_LAYER: &str = "(no layer on this side)";
pub const CMP_FILES_TITLE: &str = " Files: {n} changed from A to B, {in} in, {out} out ";
pub const CMP_FILES_HEADER: [&str; 4] = ["B − A", "In", "Out", "Path"];
/// Marks before a changed path: added, modified, removed, same content (mode/owner only).
pub const CMP_MARK_CHARS: [char; 4] = ['+', '~', '-', '='];
pub const CMP_LEGEND: [&str; 4] = ["added", "modified", "removed", "mode/owner only"];
pub const CMP_SORT_IMPACT: &str = " by impact ";
pub const CMP_SORT_NAME: &str = " by name ";
pub const CMP_NO_CHANGES: &str = "The final filesystems are the same.";
pub const CMP_LOADING: &str = "Comparing {a} and {b}";

// ---- "why is it big" (explorer, `b`) ------------------------------------------------------

pub const WHY_TITLE: &str = " Why is it big ";
pub const WHY_COMPUTING: &str = "Looking for leftovers, packages and stages…";
pub const WHY_FAILED: &str = "why is it big: {err}";
pub const WHY_NO_CONTENTS: &str =
    "(read without file contents: package databases and ELF facts are not available)";
pub const WHY_LEFTOVERS: &str = "Leftovers: {total}";
pub const WHY_NO_LEFTOVERS: &str = "Leftovers: none found";
pub const WHY_PACKAGES: &str = "Largest packages: {n} installed, {tools} build tools ({bytes})";
pub const WHY_RECOMMENDATION: &str = "→ {advice}";
pub const WHY_REMOVED: &str =
    "Removed later but still shipped in lower layers: {n} packages, {bytes}";
pub const WHY_STAGES: &str = "Stages ({method})";
pub const WHY_ESTIMATES: &str = "Estimates";
pub const WHY_FINAL: &str = "final filesystem";
pub const WHY_WITHOUT_LEFTOVERS: &str = "without leftovers";
pub const WHY_CLOSURE: &str = "runtime closure of {prog}: {bytes} in {files} files, fits {base}";
pub const WHY_NO_CLOSURE: &str = "runtime closure: not estimated";
pub const WHY_BUILD_TOOL: &str = "build tool";
pub const WHY_COL_PATH: &str = "Path (package)";
pub const WHY_COL_PACKAGE: &str = "Name and version";
pub const WHY_COL_REMOVED: &str = "Name";
pub const WHY_COL_COMMAND: &str = "Command";
pub const WHY_TOTAL_STAGE: &str = "total {origin}{stage}: {bytes} in {n} layers";
pub const WHY_NOT_AT_LAYER: &str = "{path} is not in the tree at layer {layer}";

// ---- the file viewer (explorer, `Enter` or `v` on a file) ----------------------------------

pub const VIEW_VERSION: &str = "layer {layer} (version {i} of {n})";
pub const VIEW_DIFF_TITLE: &str = "diff {title}";
pub const VIEW_DIFF_SAME: &str = "(the same bytes)";
pub const VIEW_SEARCH_PROMPT: &str = "Search: ";
pub const VIEW_NOT_FOUND: &str = "'{pattern}' not found";
pub const VIEW_NO_SEARCH: &str = "no search yet: / to search";
pub const VIEW_FIRST_VERSION: &str = "this is the first version";
pub const VIEW_LAST_VERSION: &str = "this is the last version";
pub const VIEW_NO_VERSION: &str = "no version of this path to show";
pub const VIEW_EMPTY: &str = "(empty file)";
pub const VIEW_NOT_FILE: &str = "only files can be viewed";
/// The viewer's body while a read on a worker has not said what it does yet.
pub const VIEW_READING: &str = "reading…";
/// The viewer's worker ended without an answer.
pub const VIEW_READ_STOPPED: &str = "the read stopped before it was done";
pub const VIEW_OPENING: &str = "the image's layers are still being indexed for reading";
