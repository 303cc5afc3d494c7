//! Colours and emphasis, in one place: change marks, focus, dimmed history steps.

use crate::tree::ChangeMark;
use ratatui::style::{Color, Modifier, Style};

pub fn mark(m: ChangeMark) -> Style {
    match m {
        ChangeMark::Added => Style::new().fg(Color::Green),
        ChangeMark::Modified => Style::new().fg(Color::Yellow),
        ChangeMark::Removed => Style::new().fg(Color::Red),
        ChangeMark::Unchanged => Style::new(),
    }
}

pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

pub fn selected(focused: bool) -> Style {
    if focused {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn header() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn label() -> Style {
    Style::new().fg(Color::Cyan)
}

pub fn key() -> Style {
    Style::new().fg(Color::Black).bg(Color::Cyan)
}

pub fn warn() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn waste() -> Style {
    Style::new().fg(Color::Magenta)
}

/// A delta that makes the image better (smaller, more efficient).
pub fn better() -> Style {
    Style::new().fg(Color::Green)
}

/// A delta that makes the image worse.
pub fn worse() -> Style {
    Style::new().fg(Color::Red)
}

/// A path whose content is the same, only its mode or owner changed.
pub fn metadata() -> Style {
    Style::new().fg(Color::Blue)
}

/// A leftover category's colour in the why pane: build tools and what they pull in, caches,
/// development files, sources, docs.
pub fn category(c: crate::analysis::leftovers::Category) -> Style {
    use crate::analysis::leftovers::Category as C;
    match c {
        C::Compiler | C::BuildDeps => Style::new().fg(Color::Red),
        C::PackageCache => Style::new().fg(Color::Yellow),
        C::DevFiles | C::DevDependency => Style::new().fg(Color::Magenta),
        C::Source | C::Vcs => Style::new().fg(Color::Blue),
        C::Docs => Style::new().fg(Color::Green),
    }
}
