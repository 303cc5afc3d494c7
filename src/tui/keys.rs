//! The key map as data: which key does what in which pane. The key bar and the help overlay are
//! generated from this table, so a binding documented is a binding that works.

use crate::tree::ChangeMark;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::cell::Cell;

/// Where a binding applies. `Global` bindings work in every pane unless the pane overrides them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Layers,
    Tree,
    Wasted,
    /// While typing a filter.
    Filter,
    /// Compare view: the two layer stacks.
    CompareLayers,
    /// Compare view: the diff tree.
    CompareTree,
    /// Explorer: the "why is it big" pane.
    Why,
    /// Explorer: every pane but "why is it big" (after the pane's own, before `Global`).
    Explorer,
    /// The file viewer (`Enter` or `v` on a file).
    Viewer,
    /// While typing a search in the viewer.
    ViewerSearch,
}

impl Scope {
    /// Every scope, in the order of [`super::strings::HELP_SCOPES`].
    pub const ALL: [Scope; 11] = [
        Scope::Global,
        Scope::Layers,
        Scope::Tree,
        Scope::Wasted,
        Scope::Filter,
        Scope::CompareLayers,
        Scope::CompareTree,
        Scope::Why,
        Scope::Explorer,
        Scope::Viewer,
        Scope::ViewerSearch,
    ];
    /// The scopes the explorer's help lists.
    pub const EXPLORER: &'static [Scope] = &[
        Scope::Global,
        Scope::Explorer,
        Scope::Layers,
        Scope::Tree,
        Scope::Wasted,
        Scope::Why,
        Scope::Viewer,
        Scope::Filter,
    ];
    /// The explorer's panes that share the `Explorer` bindings.
    pub fn in_explorer(self) -> bool {
        matches!(self, Scope::Layers | Scope::Tree | Scope::Wasted)
    }
    /// Scopes where printable keys are text (a filter, a search).
    pub fn is_typing(self) -> bool {
        matches!(self, Scope::Filter | Scope::ViewerSearch)
    }
    /// Scopes whose key bar shows only their own keys (and `? Help`): the global ones are
    /// overridden or mean nothing there.
    fn own_bar(self) -> bool {
        matches!(self, Scope::Filter | Scope::ViewerSearch | Scope::Viewer)
    }
    /// The scopes the compare view's help lists.
    pub const COMPARE: &'static [Scope] = &[Scope::Global, Scope::CompareTree, Scope::Filter];
}

/// Everything a key (or a mouse gesture) can ask for; `update` gives each its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    NextPane,
    PrevPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Left,
    Right,
    /// Layers: show only what the selected layer changed.
    LayerChangesOnly,
    /// Layers: show everything up to the selected layer.
    LayerAggregated,
    ToggleCollapse,
    ToggleCollapseAll,
    StartFilter,
    ToggleHide(ChangeMark),
    ToggleAttributes,
    CycleSort,
    SortBySize,
    ToggleWrap,
    WastedOnly,
    Extract,
    Jump,
    /// Explorer: open / close the "why is it big" pane.
    ToggleWhy,
    /// Explorer: focus Image details (again: back to the pane before).
    FocusDetails,
    /// Explorer: clear the kept filter, else close "why is it big".
    Back,
    Help,
    CloseHelp,
    FilterDone,
    FilterCancel,
    FilterBackspace,
    FilterInput(char),
    // ---- the file viewer (src/tui/viewer.rs) ----
    /// Tree: open the viewer on the file under the cursor.
    View,
    /// Tree, `Enter`/`^M`: the viewer on a file; elsewhere dive's "hide / show modified".
    ViewOrToggleModified,
    /// Viewer: the diff from the previous version (again: the contents).
    ViewerDiff,
    PrevVersion,
    NextVersion,
    ViewerSearch,
    SearchNext,
    SearchPrev,
    CloseViewer,
}

/// One key with its modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    }
}
const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}
const fn code(c: KeyCode) -> Key {
    Key {
        code: c,
        mods: KeyModifiers::NONE,
    }
}

impl Key {
    /// How the key is written in the bar and the help: `^L`, `Tab`, `↑`, `/`.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => {
                if self.mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_uppercase().to_string()
                } else {
                    c.to_string()
                }
            }
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Backspace => "Bksp".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        let base = if self.mods.contains(KeyModifiers::ALT) {
            format!("M-{base}")
        } else {
            base
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            if base == "Space" {
                "^Space".into()
            } else {
                format!("^{base}")
            }
        } else {
            base
        }
    }

    fn matches(&self, ev: &KeyEvent) -> bool {
        // SHIFT is part of the character for letters and symbols (`?`, `G`): ignore it there
        let mods = ev.modifiers - KeyModifiers::SHIFT;
        let want = self.mods - KeyModifiers::SHIFT;
        let code = match ev.code {
            KeyCode::Char(c) if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            // some terminals send ctrl+space as NUL
            KeyCode::Null => return *self == ctrl(' '),
            c => c,
        };
        code == self.code && mods == want
    }
}

/// One line of the key map.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub scope: Scope,
    /// Static in [`BINDINGS`]; a rebinding's keys are leaked once, when the config file is
    /// read (a few bytes per process), so a binding stays a plain copyable value.
    pub keys: &'static [Key],
    pub action: Action,
    pub help: &'static str,
    /// Short label for the key bar (None: only in the help overlay).
    pub bar: Option<&'static str>,
}

const fn b(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    bar: Option<&'static str>,
) -> Binding {
    Binding {
        scope,
        keys,
        action,
        help,
        bar,
    }
}

use Scope::*;

/// The key map. Pane scopes come before `Global` so a pane can give a key its own meaning
/// (`^A` is "aggregated" in Layers and "hide added" in the tree, as in dive).
pub const BINDINGS: &[Binding] = &[
    b(
        Filter,
        &[code(KeyCode::Enter)],
        Action::FilterDone,
        "keep the filter, back to the tree",
        Some("Keep"),
    ),
    b(
        Filter,
        &[code(KeyCode::Esc)],
        Action::FilterCancel,
        "clear the filter",
        Some("Clear"),
    ),
    b(
        Filter,
        &[code(KeyCode::Backspace)],
        Action::FilterBackspace,
        "delete a character",
        None,
    ),
    b(
        Layers,
        &[ctrl('l')],
        Action::LayerChangesOnly,
        "show only this layer's changes",
        Some("Layer changes"),
    ),
    b(
        Layers,
        &[ctrl('a')],
        Action::LayerAggregated,
        "show everything up to this layer",
        Some("Aggregated"),
    ),
    b(
        Tree,
        &[k(' ')],
        Action::ToggleCollapse,
        "collapse / expand directory",
        Some("Collapse"),
    ),
    b(
        Tree,
        &[ctrl(' ')],
        Action::ToggleCollapseAll,
        "collapse / expand all",
        None,
    ),
    b(
        Tree,
        &[ctrl('a')],
        Action::ToggleHide(ChangeMark::Added),
        "hide / show added",
        Some("Added"),
    ),
    b(
        Tree,
        &[ctrl('r')],
        Action::ToggleHide(ChangeMark::Removed),
        "hide / show removed",
        Some("Removed"),
    ),
    // terminals send ctrl+m as Enter, so Enter is the same key (as in dive): on a file it
    // opens the viewer (what Enter means in a file list), elsewhere it is dive's ^M
    b(
        Tree,
        &[code(KeyCode::Enter)],
        Action::ViewOrToggleModified,
        "on a file: view it; elsewhere: hide / show modified (dive's ^M)",
        None,
    ),
    b(
        Tree,
        &[ctrl('m')],
        Action::ToggleHide(ChangeMark::Modified),
        "hide / show modified (most terminals send it as Enter)",
        Some("Modified"),
    ),
    b(
        Tree,
        &[k('v')],
        Action::View,
        "view the file: text, hex, diff, every version",
        Some("View"),
    ),
    b(
        Tree,
        &[ctrl('u')],
        Action::ToggleHide(ChangeMark::Unchanged),
        "hide / show unmodified",
        Some("Unmodified"),
    ),
    b(
        Tree,
        &[ctrl('b')],
        Action::ToggleAttributes,
        "show / hide attributes",
        None,
    ),
    b(
        Tree,
        &[ctrl('o')],
        Action::CycleSort,
        "sort: name, size descending",
        None,
    ),
    b(
        Tree,
        &[k('s')],
        Action::SortBySize,
        "sort by size (again: by name)",
        Some("Size sort"),
    ),
    b(
        Tree,
        &[ctrl('p')],
        Action::ToggleWrap,
        "wrap long names",
        None,
    ),
    b(
        Tree,
        &[k('w')],
        Action::WastedOnly,
        "only paths that carry wasted bytes",
        Some("Wasted"),
    ),
    b(
        Tree,
        &[ctrl('e')],
        Action::Extract,
        "extract the file to the current directory",
        Some("Extract"),
    ),
    b(
        Explorer,
        &[k('b')],
        Action::ToggleWhy,
        "why is it big: leftovers, packages, stages",
        Some("Why big"),
    ),
    b(
        Explorer,
        &[k('i')],
        Action::FocusDetails,
        "Image details: the wasted paths (again: back)",
        Some("Details"),
    ),
    b(
        Explorer,
        &[code(KeyCode::Esc)],
        Action::Back,
        "clear the kept filter; else close \"why is it big\"",
        None,
    ),
    b(
        Why,
        &[code(KeyCode::Enter)],
        Action::Jump,
        "show the finding in the tree, at its layer",
        Some("Show in tree"),
    ),
    b(
        Why,
        &[k('b'), code(KeyCode::Esc)],
        Action::ToggleWhy,
        "back to layers and details",
        Some("Close"),
    ),
    // ---- the file viewer: its own keys first, then the move keys of `Global` ----
    b(
        ViewerSearch,
        &[code(KeyCode::Enter)],
        Action::FilterDone,
        "search",
        Some("Search"),
    ),
    b(
        ViewerSearch,
        &[code(KeyCode::Esc)],
        Action::FilterCancel,
        "cancel the search",
        Some("Cancel"),
    ),
    b(
        ViewerSearch,
        &[code(KeyCode::Backspace)],
        Action::FilterBackspace,
        "delete a character",
        None,
    ),
    b(
        Viewer,
        &[k('/')],
        Action::ViewerSearch,
        "search (bytes as typed)",
        Some("Search"),
    ),
    b(Viewer, &[k('n')], Action::SearchNext, "next match", None),
    b(
        Viewer,
        &[k('N')],
        Action::SearchPrev,
        "previous match",
        None,
    ),
    b(
        Viewer,
        &[k('d')],
        Action::ViewerDiff,
        "diff from the previous version (again: contents)",
        Some("Diff"),
    ),
    b(
        Viewer,
        &[k('[')],
        Action::PrevVersion,
        "previous version of the path",
        Some("Older"),
    ),
    b(
        Viewer,
        &[k(']')],
        Action::NextVersion,
        "next version of the path",
        Some("Newer"),
    ),
    b(
        Viewer,
        &[code(KeyCode::Esc), k('q')],
        Action::CloseViewer,
        "close the viewer",
        Some("Close"),
    ),
    // the compare view's diff tree: the explorer's tree keys where they make sense
    b(
        CompareTree,
        &[k(' ')],
        Action::ToggleCollapse,
        "collapse / expand directory",
        Some("Collapse"),
    ),
    b(
        CompareTree,
        &[ctrl(' ')],
        Action::ToggleCollapseAll,
        "collapse / expand all",
        None,
    ),
    b(
        CompareTree,
        &[ctrl('a')],
        Action::ToggleHide(ChangeMark::Added),
        "hide / show added in B",
        None,
    ),
    b(
        CompareTree,
        &[ctrl('r')],
        Action::ToggleHide(ChangeMark::Removed),
        "hide / show removed in B",
        None,
    ),
    b(
        CompareTree,
        &[ctrl('m'), code(KeyCode::Enter)],
        Action::ToggleHide(ChangeMark::Modified),
        "hide / show modified content",
        None,
    ),
    b(
        CompareTree,
        &[ctrl('u')],
        Action::ToggleHide(ChangeMark::Unchanged),
        "hide / show same content (mode/owner only)",
        None,
    ),
    b(
        CompareTree,
        &[ctrl('o'), k('s')],
        Action::CycleSort,
        "sort: by impact (bytes in + out), by name",
        Some("Sort"),
    ),
    b(
        Wasted,
        &[code(KeyCode::Enter)],
        Action::Jump,
        "show the path in the tree, where it was added",
        Some("Show in tree"),
    ),
    b(
        Global,
        &[k('q'), ctrl('c')],
        Action::Quit,
        "quit",
        Some("Quit"),
    ),
    b(
        Global,
        &[code(KeyCode::Tab)],
        Action::NextPane,
        "Layers ⇄ file tree (as dive)",
        Some("Pane"),
    ),
    b(
        Global,
        &[code(KeyCode::BackTab)],
        Action::PrevPane,
        "previous pane, Image details included",
        None,
    ),
    b(Global, &[code(KeyCode::Up), k('k')], Action::Up, "up", None),
    b(
        Global,
        &[code(KeyCode::Down), k('j')],
        Action::Down,
        "down",
        None,
    ),
    b(
        Global,
        &[code(KeyCode::Left), k('h')],
        Action::Left,
        "collapse / go to parent",
        None,
    ),
    b(
        Global,
        &[code(KeyCode::Right), k('l')],
        Action::Right,
        "expand / go into",
        None,
    ),
    b(
        Global,
        &[code(KeyCode::PageUp), k('u')],
        Action::PageUp,
        "page up",
        None,
    ),
    b(
        Global,
        &[code(KeyCode::PageDown), k('d')],
        Action::PageDown,
        "page down",
        None,
    ),
    b(
        Global,
        &[code(KeyCode::Home), k('g')],
        Action::Home,
        "first",
        None,
    ),
    b(
        Global,
        &[code(KeyCode::End), k('G')],
        Action::End,
        "last",
        None,
    ),
    b(
        Global,
        &[ctrl('f'), k('/')],
        Action::StartFilter,
        "filter paths (substring or regex)",
        Some("Filter"),
    ),
    b(
        Global,
        &[k('?')],
        Action::Help,
        "help: all keys",
        Some("Help"),
    ),
];

/// The help overlay's own keys (not part of the panes' map).
pub const HELP_CLOSE: &[Key] = &[k('?'), code(KeyCode::Esc), k('q')];

/// The action for a key in a scope: the scope's own binding first, then a global one.
/// While typing a filter, unbound printable keys are text.
pub fn lookup(scope: Scope, ev: &KeyEvent) -> Option<Action> {
    let map = active();
    let quit = map
        .iter()
        .find(|b| b.action == Action::Quit && b.keys.iter().any(|k| k.matches(ev)));
    if scope.is_typing() {
        if let Some(b) = map
            .iter()
            .find(|b| b.scope == scope && b.keys.iter().any(|k| k.matches(ev)))
        {
            return Some(b.action);
        }
        // ctrl+c still quits; any other printable key is part of the pattern
        if ev.modifiers.contains(KeyModifiers::CONTROL) {
            return quit
                .filter(|_| ev.code == KeyCode::Char('c'))
                .map(|b| b.action);
        }
        return match ev.code {
            KeyCode::Char(c) => Some(Action::FilterInput(c)),
            _ => None,
        };
    }
    map.iter()
        .filter(|b| b.scope == scope)
        .chain(
            map.iter()
                .filter(|b| b.scope == Explorer && scope.in_explorer()),
        )
        .chain(map.iter().filter(|b| b.scope == Global))
        .find(|b| b.keys.iter().any(|k| k.matches(ev)))
        .map(|b| b.action)
}

/// The bindings the key bar shows for a scope: its own, then the global ones.
pub fn bar(scope: Scope) -> Vec<&'static Binding> {
    let map = active();
    map.iter()
        .filter(|b| b.bar.is_some() && b.scope == scope)
        .chain(
            map.iter()
                .filter(|b| b.bar.is_some() && b.scope == Explorer && scope.in_explorer()),
        )
        .chain(
            map.iter()
                .filter(|b| b.bar.is_some() && b.scope == Global)
                .filter(|b| !scope.own_bar() || (b.action == Action::Help && !scope.is_typing())),
        )
        .collect()
}

/// `↑,k`, `q,^C`: every key of a binding.
pub fn keys_label(b: &Binding) -> String {
    b.keys
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join(",")
}

thread_local! {
    /// The key map this thread's explorer reads: [`BINDINGS`] unless [`install`] gave another.
    static ACTIVE: Cell<&'static [Binding]> = const { Cell::new(BINDINGS) };
}

/// The key map in use on this thread (the key bar, the help and [`lookup`] read it).
pub fn active() -> &'static [Binding] {
    ACTIVE.with(|a| a.get())
}

/// Use `map` on this thread from now on. It lives as long as the process: one map per
/// explorer run (tests install a few).
pub fn install(map: Vec<Binding>) {
    let map: &'static [Binding] = Box::leak(map.into_boxed_slice());
    ACTIVE.with(|a| a.set(map));
}

/// Back to the default key map on this thread.
pub fn reset() {
    ACTIVE.with(|a| a.set(BINDINGS));
}

/// Actions the config file names as dive's `keybinding:` does; every other action is named
/// by [`action_name`]'s kebab-case of its variant.
const DIVE_NAMES: &[(&str, Action)] = &[
    ("quit", Action::Quit),
    ("toggle-view", Action::NextPane),
    ("filter-files", Action::StartFilter),
    ("close-filter-files", Action::FilterCancel),
    ("compare-layer", Action::LayerChangesOnly),
    ("compare-all", Action::LayerAggregated),
    ("toggle-collapse-dir", Action::ToggleCollapse),
    ("toggle-collapse-all-dir", Action::ToggleCollapseAll),
    ("toggle-added-files", Action::ToggleHide(ChangeMark::Added)),
    (
        "toggle-removed-files",
        Action::ToggleHide(ChangeMark::Removed),
    ),
    (
        "toggle-modified-files",
        Action::ToggleHide(ChangeMark::Modified),
    ),
    (
        "toggle-unmodified-files",
        Action::ToggleHide(ChangeMark::Unchanged),
    ),
    ("toggle-filetree-attributes", Action::ToggleAttributes),
    ("toggle-sort-order", Action::CycleSort),
    ("toggle-wrap-tree", Action::ToggleWrap),
    ("extract-file", Action::Extract),
    ("page-up", Action::PageUp),
    ("page-down", Action::PageDown),
    ("previous-pane", Action::PrevPane),
    ("keep-filter", Action::FilterDone),
    ("show-in-tree", Action::Jump),
    ("image-details", Action::FocusDetails),
];

/// The config file's name for an action: dive's where dive has the action, else the
/// variant's name in kebab case (`ToggleWhy` → `toggle-why`).
pub fn action_name(a: Action) -> String {
    if let Some((n, _)) = DIVE_NAMES.iter().find(|(_, x)| *x == a) {
        return n.to_string();
    }
    let debug = format!("{a:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        }
    }
    out
}

/// The named key words of the config file (dive's, and the usual aliases).
const KEY_WORDS: &[(&str, KeyCode)] = &[
    ("space", KeyCode::Char(' ')),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pageup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("slash", KeyCode::Char('/')),
    ("comma", KeyCode::Char(',')),
    ("plus", KeyCode::Char('+')),
];

/// One key as the config file writes it: `q`, `G`, `ctrl+a`, `alt+x`, `space`, `pgdn`,
/// `shift+tab`, `f5`, `ctrl+slash`.
pub fn parse_key(text: &str) -> Result<Key, String> {
    let bad = || {
        format!(
            "{} is not a key (a character, a name such as space, tab, esc, pgdn, f5, \
             maybe after ctrl+, alt+ or shift+)",
            crate::text_fit::quoted(text)
        )
    };
    let mut mods = KeyModifiers::NONE;
    let mut rest = text.trim();
    loop {
        let lower = rest.to_ascii_lowercase();
        let (m, len) = if lower.starts_with("ctrl+") {
            (KeyModifiers::CONTROL, 5)
        } else if lower.starts_with("alt+") {
            (KeyModifiers::ALT, 4)
        } else if lower.starts_with("shift+") {
            (KeyModifiers::SHIFT, 6)
        } else {
            break;
        };
        if rest.len() == len {
            break; // `ctrl++`: the key is `+`
        }
        mods |= m;
        rest = &rest[len..];
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() => {
            if mods.contains(KeyModifiers::CONTROL) {
                KeyCode::Char(c.to_ascii_lowercase())
            } else {
                KeyCode::Char(c)
            }
        }
        _ => {
            let lower = rest.to_ascii_lowercase();
            if let Some((_, c)) = KEY_WORDS.iter().find(|(w, _)| *w == lower) {
                *c
            } else if let Some(n) = lower
                .strip_prefix('f')
                .and_then(|n| n.parse::<u8>().ok())
                .filter(|n| (1..=12).contains(n))
            {
                KeyCode::F(n)
            } else {
                return Err(bad());
            }
        }
    };
    // shift+tab is the back-tab terminals send
    if code == KeyCode::Tab && mods.contains(KeyModifiers::SHIFT) {
        return Ok(Key {
            code: KeyCode::BackTab,
            mods: mods - KeyModifiers::SHIFT,
        });
    }
    // a shifted character is the character itself (`shift+g` is `G`)
    if let KeyCode::Char(c) = code {
        if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
            return Ok(Key {
                code: KeyCode::Char(c.to_ascii_uppercase()),
                mods: mods - KeyModifiers::SHIFT,
            });
        }
    }
    Ok(Key { code, mods })
}

/// A key list as the config file writes it: `q, ctrl+c` (dive's form; `,` alone is the comma
/// key).
pub fn parse_keys(text: &str) -> Result<Vec<Key>, String> {
    if text.trim() == "," {
        return Ok(vec![k(',')]);
    }
    let keys = text
        .split(',')
        .map(parse_key)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err("no key given".into());
    }
    Ok(keys)
}

/// The bindings the lookup chains of two scopes share a key through.
fn overlap(a: Scope, b: Scope) -> bool {
    let reaches = |from: Scope, to: Scope| {
        from == to || (to == Global && !from.is_typing()) || (to == Explorer && from.in_explorer())
    };
    reaches(a, b) || reaches(b, a)
}

/// The key map with the config file's bindings: each `(action name, keys)` replaces the keys
/// of every binding of that action. Errors name the action: an unknown name, or a key that
/// another action in a pane it reaches already has.
pub fn rebind(rebinds: &[(String, Vec<Key>)]) -> Result<Vec<Binding>, String> {
    let mut map: Vec<Binding> = BINDINGS.to_vec();
    let mut changed = vec![false; map.len()];
    for (name, keys) in rebinds {
        let mut found = false;
        let keys: &'static [Key] = Box::leak(keys.clone().into_boxed_slice());
        for (b, c) in map.iter_mut().zip(changed.iter_mut()) {
            if action_name(b.action) == *name {
                b.keys = keys;
                *c = true;
                found = true;
            }
        }
        if !found {
            let mut names: Vec<String> = BINDINGS.iter().map(|b| action_name(b.action)).collect();
            names.sort();
            names.dedup();
            return Err(format!(
                "no explorer action is called {} (actions: {})",
                crate::text_fit::quoted(name),
                names.join(", ")
            ));
        }
    }
    // only the keys the file adds are checked: a pane overriding a global key by design
    // (as the defaults do) is no conflict when the file repeats the default
    for (b, default) in map
        .iter()
        .zip(BINDINGS)
        .zip(&changed)
        .filter(|(_, c)| **c)
        .map(|(p, _)| p)
    {
        let added = b.keys.iter().filter(|k| !default.keys.contains(k));
        for key in added {
            let other = map.iter().find(|o| {
                o.action != b.action && overlap(o.scope, b.scope) && o.keys.contains(key)
            });
            if let Some(o) = other {
                return Err(format!(
                    "{} is bound to both {} and {}",
                    key.label(),
                    action_name(b.action),
                    action_name(o.action)
                ));
            }
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_the_config_file_writes_them() {
        let key = |c: KeyCode, mods: KeyModifiers| Key { code: c, mods };
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        let cases = [
            ("q", key(KeyCode::Char('q'), none)),
            ("G", key(KeyCode::Char('G'), none)),
            ("shift+g", key(KeyCode::Char('G'), none)),
            ("ctrl+A", key(KeyCode::Char('a'), ctrl)),
            ("Ctrl+Space", key(KeyCode::Char(' '), ctrl)),
            ("ctrl+slash", key(KeyCode::Char('/'), ctrl)),
            ("ctrl++", key(KeyCode::Char('+'), ctrl)),
            ("alt+x", key(KeyCode::Char('x'), KeyModifiers::ALT)),
            ("pgdn", key(KeyCode::PageDown, none)),
            ("shift+tab", key(KeyCode::BackTab, none)),
            ("f5", key(KeyCode::F(5), none)),
            ("esc", key(KeyCode::Esc, none)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_key(text), Ok(want), "{text}");
        }
        for bad in ["", "ctrl+", "f13", "qq", "hyper+x", "\u{1b}"] {
            assert!(parse_key(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_keys("up, k").unwrap(),
            [key(KeyCode::Up, none), key(KeyCode::Char('k'), none)]
        );
        assert_eq!(parse_keys(",").unwrap(), [key(KeyCode::Char(','), none)]);
        assert_eq!(key(KeyCode::F(5), none).label(), "F5");
        assert_eq!(key(KeyCode::Char('x'), KeyModifiers::ALT).label(), "M-x");
    }

    #[test]
    fn every_action_in_the_map_has_its_own_name() {
        let mut seen: Vec<(String, Action)> = Vec::new();
        for b in BINDINGS {
            let n = action_name(b.action);
            assert!(!n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            if let Some((_, a)) = seen.iter().find(|(s, _)| *s == n) {
                assert_eq!(*a, b.action, "{n} names two actions");
            }
            seen.push((n, b.action));
        }
        assert_eq!(action_name(Action::ToggleWhy), "toggle-why");
        assert_eq!(action_name(Action::FilterBackspace), "filter-backspace");
    }

    #[test]
    fn a_rebinding_replaces_the_keys_in_every_pane_of_the_action() {
        let map = rebind(&[("show-in-tree".into(), vec![k('o')])]).unwrap();
        let jumps: Vec<_> = map.iter().filter(|b| b.action == Action::Jump).collect();
        assert_eq!(jumps.len(), 2, "the why pane and Image details");
        assert!(jumps.iter().all(|b| b.keys == [k('o')]));
        // the rest is as it was
        let untouched = map.iter().filter(|b| b.action != Action::Jump);
        for (b, d) in untouched.zip(BINDINGS.iter().filter(|b| b.action != Action::Jump)) {
            assert_eq!(b.keys, d.keys);
        }
        // a pane key may not take a key a global action has
        // an unknown name: the message lists the names, sorted
        let e = rebind(&[("toggle-wasted-only".into(), vec![k('?')])]).unwrap_err();
        assert!(
            e.starts_with(
                "no explorer action is called \"toggle-wasted-only\" (actions: back, \
                 close-filter-files, close-viewer, compare-all, compare-layer, down, end, "
            ),
            "{e}"
        );
        assert!(
            e.contains(", toggle-why, ") && e.contains(", wasted-only"),
            "{e}"
        );
        // a pane key may not take a key a global action has
        assert_eq!(
            rebind(&[("wasted-only".into(), vec![k('?')])]).unwrap_err(),
            "? is bound to both wasted-only and help"
        );
        // writing a default down is no conflict, even where a pane overrides a global key
        // (the actions whose keys are the same in every pane they work in)
        let all: Vec<(String, Vec<Key>)> = BINDINGS
            .iter()
            .filter(|b| {
                BINDINGS
                    .iter()
                    .filter(|o| o.action == b.action)
                    .all(|o| o.keys == b.keys)
            })
            .map(|b| (action_name(b.action), b.keys.to_vec()))
            .collect();
        assert!(all.len() > 25, "{}", all.len());
        assert!(rebind(&all).is_ok(), "{:?}", rebind(&all).err());
    }
}
