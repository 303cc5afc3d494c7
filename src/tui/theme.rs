//! Colours and emphasis, in one place: every style the explorer draws with comes from a
//! [`Theme`] here (a test greps `src/tui` for colour literals elsewhere). Four themes: `dark`
//! (the default), `light` (for a white terminal), `high-contrast`, and `no-color` (emphasis
//! only: bold, underline, reverse; chosen by `NO_COLOR`).
//!
//! The theme in use is the drawing thread's setting ([`set`], [`using`]) rather than an
//! argument of every pane's `render`: the explorer draws on one thread, and panes ask for a
//! role (`theme::label()`), never for a colour.

use crate::analysis::leftovers::Category;
use crate::tree::ChangeMark;
use ratatui::style::{Color, Modifier, Style};
use std::cell::Cell;

/// The themes by the names the config file and the docs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThemeName {
    Dark,
    Light,
    HighContrast,
    NoColor,
}

impl ThemeName {
    pub const ALL: [ThemeName; 4] = [
        ThemeName::Dark,
        ThemeName::Light,
        ThemeName::HighContrast,
        ThemeName::NoColor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ThemeName::Dark => "dark",
            ThemeName::Light => "light",
            ThemeName::HighContrast => "high-contrast",
            ThemeName::NoColor => "no-color",
        }
    }

    pub fn parse(s: &str) -> Option<ThemeName> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn theme(self) -> &'static Theme {
        match self {
            ThemeName::Dark => &DARK,
            ThemeName::Light => &LIGHT,
            ThemeName::HighContrast => &HIGH_CONTRAST,
            ThemeName::NoColor => &NO_COLOR,
        }
    }

    /// The theme when the config names none: `no-color` when `NO_COLOR` is set to anything
    /// but the empty string (no-color.org), else `dark`.
    pub fn default_for(no_color: Option<&std::ffi::OsStr>) -> ThemeName {
        match no_color {
            Some(v) if !v.is_empty() => ThemeName::NoColor,
            _ => ThemeName::Dark,
        }
    }
}

/// Every role the explorer draws, as a style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub name: ThemeName,
    pub added: Style,
    pub modified: Style,
    pub removed: Style,
    pub unchanged: Style,
    /// A legend entry whose rows are hidden.
    pub hidden: Style,
    pub border_focused: Style,
    pub border: Style,
    pub selected_focused: Style,
    pub selected: Style,
    /// A row the tree shows because it carries wasted bytes (the `w` view).
    pub emphasis: Style,
    pub dim: Style,
    pub header: Style,
    pub label: Style,
    pub key: Style,
    pub warn: Style,
    pub waste: Style,
    pub better: Style,
    pub worse: Style,
    pub metadata: Style,
    /// The why pane's categories: build tools and what they leave (compilers, headers,
    /// build dependencies).
    pub cat_build: Style,
    /// Package manager caches and indexes.
    pub cat_cache: Style,
    /// Development files and dependencies (headers, static libraries, test suites).
    pub cat_dev: Style,
    /// Source trees and version control.
    pub cat_source: Style,
    /// Documentation (man pages, docs, locales).
    pub cat_docs: Style,
    /// Secrets left in a layer.
    pub cat_secret: Style,
    /// Risky files (setuid, world-writable, unknown owners).
    pub cat_risky: Style,
}

const fn fg(c: Color) -> Style {
    Style::new().fg(c)
}
const fn bold(c: Color) -> Style {
    Style::new().fg(c).add_modifier(Modifier::BOLD)
}
const fn only(m: Modifier) -> Style {
    Style::new().add_modifier(m)
}
const NONE: Style = Style::new();
const REVERSED: Modifier = Modifier::REVERSED;
const BOLD_UNDERLINED: Modifier = Modifier::BOLD.union(Modifier::UNDERLINED);
const STRUCK: Modifier = Modifier::CROSSED_OUT.union(Modifier::DIM);

/// The default: the 16 ANSI colours, which a dark terminal's palette makes readable.
pub static DARK: Theme = Theme {
    name: ThemeName::Dark,
    added: fg(Color::Green),
    modified: fg(Color::Yellow),
    removed: fg(Color::Red),
    unchanged: NONE,
    hidden: only(STRUCK),
    border_focused: bold(Color::Cyan),
    border: fg(Color::DarkGray),
    selected_focused: only(REVERSED),
    selected: only(BOLD_UNDERLINED),
    emphasis: only(Modifier::BOLD),
    dim: fg(Color::DarkGray),
    header: only(Modifier::BOLD),
    label: fg(Color::Cyan),
    key: Style::new().fg(Color::Black).bg(Color::Cyan),
    warn: bold(Color::Yellow),
    waste: fg(Color::Magenta),
    better: fg(Color::Green),
    worse: fg(Color::Red),
    metadata: fg(Color::Blue),
    cat_build: fg(Color::Red),
    cat_cache: fg(Color::Yellow),
    cat_dev: fg(Color::Magenta),
    cat_source: fg(Color::Blue),
    cat_docs: fg(Color::Cyan),
    cat_secret: bold(Color::LightRed),
    cat_risky: bold(Color::Yellow),
};

/// For a white terminal: colours of the 256-colour cube, which are the same on every
/// terminal (the 16 ANSI ones are remapped by palettes), dark enough to read on white;
/// no yellow or cyan text, which a white background washes out.
pub static LIGHT: Theme = Theme {
    name: ThemeName::Light,
    added: fg(Color::Indexed(28)),     // #008700
    modified: fg(Color::Indexed(130)), // #af5f00
    removed: fg(Color::Indexed(160)),  // #d70000
    unchanged: NONE,
    hidden: only(STRUCK),
    border_focused: bold(Color::Indexed(25)), // #005faf
    border: fg(Color::Indexed(246)),          // #949494
    selected_focused: only(REVERSED),
    selected: only(BOLD_UNDERLINED),
    emphasis: only(Modifier::BOLD),
    dim: fg(Color::Indexed(242)), // #6c6c6c
    header: only(Modifier::BOLD),
    label: fg(Color::Indexed(25)),
    key: Style::new().fg(Color::Indexed(231)).bg(Color::Indexed(25)),
    warn: bold(Color::Indexed(130)),
    waste: fg(Color::Indexed(90)), // #870087
    better: fg(Color::Indexed(28)),
    worse: fg(Color::Indexed(160)),
    metadata: fg(Color::Indexed(61)), // #5f5faf
    cat_build: fg(Color::Indexed(124)),
    cat_cache: fg(Color::Indexed(94)),
    cat_dev: fg(Color::Indexed(90)),
    cat_source: fg(Color::Indexed(25)),
    cat_docs: fg(Color::Indexed(23)),
    cat_secret: bold(Color::Indexed(160)),
    cat_risky: bold(Color::Indexed(130)),
};

/// High contrast: the bright colours in bold on the terminal's background, white borders,
/// no dark grey (secondary text is plain, not dimmed).
pub static HIGH_CONTRAST: Theme = Theme {
    name: ThemeName::HighContrast,
    added: bold(Color::LightGreen),
    modified: bold(Color::LightYellow),
    removed: bold(Color::LightRed),
    unchanged: fg(Color::White),
    hidden: only(Modifier::CROSSED_OUT),
    border_focused: bold(Color::LightYellow),
    border: fg(Color::White),
    selected_focused: Style::new()
        .fg(Color::Black)
        .bg(Color::White)
        .add_modifier(Modifier::BOLD),
    selected: only(BOLD_UNDERLINED),
    emphasis: only(BOLD_UNDERLINED),
    dim: fg(Color::Gray),
    header: bold(Color::White),
    label: bold(Color::LightCyan),
    key: Style::new()
        .fg(Color::Black)
        .bg(Color::LightYellow)
        .add_modifier(Modifier::BOLD),
    warn: bold(Color::LightYellow),
    waste: bold(Color::LightMagenta),
    better: bold(Color::LightGreen),
    worse: bold(Color::LightRed),
    metadata: bold(Color::LightBlue),
    cat_build: bold(Color::LightRed),
    cat_cache: bold(Color::LightYellow),
    cat_dev: bold(Color::LightMagenta),
    cat_source: bold(Color::LightBlue),
    cat_docs: bold(Color::LightCyan),
    cat_secret: Style::new()
        .fg(Color::White)
        .bg(Color::Red)
        .add_modifier(Modifier::BOLD),
    cat_risky: bold(Color::LightYellow),
};

/// `NO_COLOR`: no colour at all, foreground or background; roles differ by emphasis (the
/// change marks are also written as text in the tree's legend and attributes).
pub static NO_COLOR: Theme = Theme {
    name: ThemeName::NoColor,
    added: only(Modifier::BOLD),
    modified: only(Modifier::ITALIC),
    removed: only(Modifier::CROSSED_OUT),
    unchanged: NONE,
    hidden: only(STRUCK),
    border_focused: only(Modifier::BOLD),
    border: NONE,
    selected_focused: only(REVERSED),
    selected: only(BOLD_UNDERLINED),
    emphasis: only(Modifier::UNDERLINED),
    dim: only(Modifier::DIM),
    header: only(Modifier::BOLD),
    label: NONE,
    key: only(REVERSED),
    warn: only(Modifier::BOLD),
    waste: only(Modifier::UNDERLINED),
    better: NONE,
    worse: only(Modifier::BOLD),
    metadata: only(Modifier::ITALIC),
    cat_build: NONE,
    cat_cache: NONE,
    cat_dev: NONE,
    cat_source: NONE,
    cat_docs: NONE,
    cat_secret: only(Modifier::BOLD),
    cat_risky: only(Modifier::BOLD),
};

thread_local! {
    static CURRENT: Cell<&'static Theme> = const { Cell::new(&DARK) };
}

/// The theme this thread draws with.
pub fn current() -> &'static Theme {
    CURRENT.with(|c| c.get())
}

/// Draw with `t` on this thread from now on.
pub fn set(t: &'static Theme) {
    CURRENT.with(|c| c.set(t));
}

/// Run `f` drawing with `t`, then go back to the theme before (tests draw every theme).
pub fn using<R>(t: &'static Theme, f: impl FnOnce() -> R) -> R {
    let before = current();
    set(t);
    struct Restore(&'static Theme);
    impl Drop for Restore {
        fn drop(&mut self) {
            set(self.0);
        }
    }
    let _restore = Restore(before);
    f()
}

pub fn mark(m: ChangeMark) -> Style {
    let t = current();
    match m {
        ChangeMark::Added => t.added,
        ChangeMark::Modified => t.modified,
        ChangeMark::Removed => t.removed,
        ChangeMark::Unchanged => t.unchanged,
    }
}

/// Laid over a legend entry whose rows are hidden.
pub fn hidden() -> Style {
    current().hidden
}

pub fn border(focused: bool) -> Style {
    let t = current();
    if focused {
        t.border_focused
    } else {
        t.border
    }
}

pub fn selected(focused: bool) -> Style {
    let t = current();
    if focused {
        t.selected_focused
    } else {
        t.selected
    }
}

/// A row shown for what it carries (the tree's "wasted only" view).
pub fn emphasis() -> Style {
    current().emphasis
}

pub fn dim() -> Style {
    current().dim
}

pub fn header() -> Style {
    current().header
}

pub fn label() -> Style {
    current().label
}

pub fn key() -> Style {
    current().key
}

pub fn warn() -> Style {
    current().warn
}

pub fn waste() -> Style {
    current().waste
}

/// A delta that makes the image better (smaller, more efficient).
pub fn better() -> Style {
    current().better
}

/// A delta that makes the image worse.
pub fn worse() -> Style {
    current().worse
}

/// A path whose content is the same, only its mode or owner changed.
pub fn metadata() -> Style {
    current().metadata
}

/// A leftover category's colour in the why pane.
pub fn category(c: Category) -> Style {
    let t = current();
    #[allow(unreachable_patterns)] // a category added later takes the build tools' colour
    match c {
        Category::Compiler => t.cat_build,
        Category::PackageCache => t.cat_cache,
        Category::DevFiles | Category::DevDependency => t.cat_dev,
        Category::Source | Category::Vcs => t.cat_source,
        Category::Docs => t.cat_docs,
        _ => t.cat_build,
    }
}

/// A secret left in a layer (the why pane, findings).
pub fn secret() -> Style {
    current().cat_secret
}

/// A risky file (setuid, world-writable, unknown owner).
pub fn risky() -> Style {
    current().cat_risky
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_no_color_has_no_colour() {
        for n in ThemeName::ALL {
            assert_eq!(ThemeName::parse(n.as_str()), Some(n));
            assert_eq!(n.theme().name, n);
        }
        assert_eq!(ThemeName::parse("Dark"), None);
        let t = &NO_COLOR;
        let all = [
            t.added,
            t.modified,
            t.removed,
            t.unchanged,
            t.hidden,
            t.border_focused,
            t.border,
            t.selected_focused,
            t.selected,
            t.emphasis,
            t.dim,
            t.header,
            t.label,
            t.key,
            t.warn,
            t.waste,
            t.better,
            t.worse,
            t.metadata,
            t.cat_build,
            t.cat_cache,
            t.cat_dev,
            t.cat_source,
            t.cat_docs,
            t.cat_secret,
            t.cat_risky,
        ];
        for s in all {
            assert_eq!((s.fg, s.bg), (None, None), "{s:?}");
        }
    }

    #[test]
    fn no_color_is_chosen_by_a_non_empty_no_color() {
        use std::ffi::OsStr;
        assert_eq!(ThemeName::default_for(None), ThemeName::Dark);
        assert_eq!(
            ThemeName::default_for(Some(OsStr::new(""))),
            ThemeName::Dark
        );
        assert_eq!(
            ThemeName::default_for(Some(OsStr::new("0"))),
            ThemeName::NoColor
        );
    }

    #[test]
    fn using_restores_the_theme_before() {
        assert_eq!(current().name, ThemeName::Dark);
        using(&LIGHT, || assert_eq!(label(), LIGHT.label));
        assert_eq!(current().name, ThemeName::Dark);
    }
}
