//! The user's config file, as dive has one: `$XDG_CONFIG_HOME/bathy/config.yaml` (or
//! `--config FILE`, or `BATHY_CONFIG`). It sets the explorer's theme, keys and start (dive's
//! `keybinding:`, `filetree:`, `layer:` and `diff:` keys where they match) and the defaults of
//! `--ci` (a `ci:` section holding what a `.dive-ci` holds).
//!
//! The file is input like any other: read with a size cap, refused when it is not a regular
//! file, nesting checked before the YAML parser sees it. A key we do not know is a warning
//! (one line naming the file and key); a value we cannot use is an error naming the file and
//! key, and bathy stops (exit 2) rather than run with a setting the user did not ask for.

use crate::error::{Error, Result};
use crate::text_fit::quoted;
use serde_norway::{Mapping, Value};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Config files larger than this are refused (a real one is a few hundred bytes).
pub const MAX_CONFIG: u64 = 1 << 20;

/// The file under `$XDG_CONFIG_HOME` (or `~/.config`).
pub const DEFAULT_RELATIVE: &str = "bathy/config.yaml";

/// The variable that names a config file when `--config` does not.
pub const ENV_VAR: &str = "BATHY_CONFIG";

/// What the config file says, checked.
#[derive(Debug, Default)]
pub struct ConfigFile {
    /// The file read (None: there is none).
    pub path: Option<PathBuf>,
    /// One line each: unknown keys, naming the file and the key.
    pub warnings: Vec<String>,
    #[cfg(feature = "tui")]
    pub explorer: crate::tui::prefs::Prefs,
    /// The `ci:` section as `.dive-ci` text, with the name its messages give it.
    pub ci: Option<(String, String)>,
}

/// Where the config file is: `--config`, else `BATHY_CONFIG`, else the XDG default. The bool
/// says whether it was named (a named file must exist; the default may not).
pub fn locate(
    flag: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Option<(PathBuf, bool)> {
    if let Some(p) = flag {
        return Some((p.to_path_buf(), true));
    }
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(p) = set(ENV_VAR) {
        return Some((PathBuf::from(p), true));
    }
    // XDG: a relative XDG_CONFIG_HOME is invalid and ignored
    let base = set("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some((base.join(DEFAULT_RELATIVE), false))
}

/// Read and check the config file at `path` (`named`: the user named it, so it must exist).
pub fn load(path: &Path, named: bool) -> Result<ConfigFile> {
    if !named && std::fs::symlink_metadata(path).is_err() {
        return Ok(ConfigFile::default());
    }
    let text = crate::small_file::read_capped_text(path, MAX_CONFIG)?;
    let mut cfg = parse(&text, &path.display().to_string())?;
    cfg.path = Some(path.to_path_buf());
    Ok(cfg)
}

/// An error naming the file and the key.
fn bad(file: &str, key: &str, message: String) -> Error {
    Error::Config {
        what: file.to_string(),
        message: format!("{key}: {message}"),
    }
}

/// A YAML value in a message: a scalar as written, anything else by its kind.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => quoted(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "nothing".into(),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

/// A mapping key as text (`1`, `true` and lists are keys YAML allows; we name them quoted).
fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => shown(other),
    }
}

/// The text `config.yaml` parses from, with the file's name for messages.
pub fn parse(text: &str, file: &str) -> Result<ConfigFile> {
    let cfg_err = |message: String| Error::Config {
        what: file.to_string(),
        message,
    };
    crate::analysis::leftovers::check_yaml_nesting(text).map_err(cfg_err)?;
    let doc: Value = if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        Value::Null
    } else {
        serde_norway::from_str(text).map_err(|e| cfg_err(e.to_string()))?
    };
    let top = match doc {
        Value::Null => Mapping::new(),
        Value::Mapping(m) => m,
        other => {
            return Err(cfg_err(format!(
                "{} where a mapping of settings belongs",
                shown(&other)
            )))
        }
    };
    let mut out = ConfigFile::default();
    let mut r = Reader {
        file,
        warnings: &mut out.warnings,
    };
    for (k, v) in &top {
        let key = key_text(k);
        match key.as_str() {
            "ci" => out.ci = Some(ci_section(file, v)?),
            #[cfg(feature = "tui")]
            "theme" | "keybinding" | "filetree" | "layer" | "diff" => {
                explorer::section(&mut r, &key, v, &mut out.explorer)?
            }
            #[cfg(not(feature = "tui"))]
            "theme" | "keybinding" | "filetree" | "layer" | "diff" => {}
            _ => r.unknown(&key),
        }
    }
    Ok(out)
}

/// The `ci:` section, as the text of a `.dive-ci` (`ci_config` reads it as one, so the two
/// files take the same keys and values).
fn ci_section(file: &str, v: &Value) -> Result<(String, String)> {
    if !matches!(v, Value::Mapping(_) | Value::Null) {
        return Err(bad(
            file,
            "ci",
            format!("{} where a .dive-ci mapping (rules: ...) belongs", shown(v)),
        ));
    }
    let text = serde_norway::to_string(v).map_err(|e| bad(file, "ci", e.to_string()))?;
    Ok((format!("{file}: ci"), text))
}

/// Walks the file, collecting warnings.
struct Reader<'a> {
    file: &'a str,
    warnings: &'a mut Vec<String>,
}

impl Reader<'_> {
    fn unknown(&mut self, key: &str) {
        self.warnings.push(format!(
            "{}: ignoring unknown key {}",
            self.file,
            quoted(key)
        ));
    }

    fn bad(&self, key: &str, message: String) -> Error {
        bad(self.file, key, message)
    }

    /// The entries of a mapping section, keys as text.
    fn entries<'v>(&self, key: &str, v: &'v Value) -> Result<Vec<(String, &'v Value)>> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Mapping(m) => Ok(m.iter().map(|(k, v)| (key_text(k), v)).collect()),
            other => Err(self.bad(key, format!("{} where a mapping belongs", shown(other)))),
        }
    }

    fn bool(&self, key: &str, v: &Value) -> Result<bool> {
        v.as_bool()
            .ok_or_else(|| self.bad(key, format!("{} is not true or false", shown(v))))
    }

    fn string<'v>(&self, key: &str, v: &'v Value) -> Result<&'v str> {
        v.as_str()
            .ok_or_else(|| self.bad(key, format!("{} where a word belongs", shown(v))))
    }

    /// A list as a YAML sequence of words, or one comma-separated string (dive's form).
    fn words(&self, key: &str, v: &Value) -> Result<Vec<String>> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::String(s) => Ok(s
                .split(',')
                .map(|w| w.trim().to_string())
                .filter(|w| !w.is_empty())
                .collect()),
            Value::Sequence(items) => items
                .iter()
                .map(|i| self.string(key, i).map(str::to_string))
                .collect(),
            other => Err(self.bad(key, format!("{} where a list belongs", shown(other)))),
        }
    }
}

#[cfg(feature = "tui")]
mod explorer {
    use super::{shown, Reader};
    use crate::error::Result;
    use crate::text_fit::quoted;
    use crate::tree::ChangeMark;
    use crate::tui::keys::{self, Key};
    use crate::tui::prefs::Prefs;
    use crate::tui::theme::ThemeName;
    use crate::tui::treeview::{LayerMode, SortOrder};
    use serde_norway::Value;

    /// One of the explorer's top-level keys.
    pub(super) fn section(r: &mut Reader, key: &str, v: &Value, p: &mut Prefs) -> Result<()> {
        match key {
            "theme" => {
                let names: Vec<_> = ThemeName::ALL.iter().map(|t| t.as_str()).collect();
                let s = r.string(key, v)?;
                p.theme = Some(ThemeName::parse(s).ok_or_else(|| {
                    r.bad(
                        key,
                        format!("{} is not a theme ({})", quoted(s), names.join(", ")),
                    )
                })?);
            }
            "keybinding" => keybinding(r, v, p)?,
            "filetree" => filetree(r, v, p)?,
            "layer" => layer(r, v, p)?,
            _ => diff(r, v, p)?,
        }
        Ok(())
    }

    /// `keybinding:`: action name → keys (`q, ctrl+c` or a list), each action checked by
    /// itself (so an error names its key), then the whole map for keys bound twice.
    fn keybinding(r: &mut Reader, v: &Value, p: &mut Prefs) -> Result<()> {
        let mut rebinds: Vec<(String, Vec<Key>)> = Vec::new();
        for (name, v) in r.entries("keybinding", v)? {
            let key = format!("keybinding.{name}");
            let texts = match v {
                Value::String(s) => vec![s.clone()],
                Value::Sequence(_) => r.words(&key, v)?,
                other => {
                    return Err(r.bad(&key, format!("{} where keys belong", shown(other))));
                }
            };
            let mut list = Vec::new();
            for t in &texts {
                list.extend(keys::parse_keys(t).map_err(|m| r.bad(&key, m))?);
            }
            if list.is_empty() {
                return Err(r.bad(&key, "no key given".into()));
            }
            keys::rebind(&[(name.clone(), list.clone())]).map_err(|m| r.bad(&key, m))?;
            rebinds.push((name, list));
        }
        if !rebinds.is_empty() {
            let map = keys::rebind(&rebinds).map_err(|m| r.bad("keybinding", m))?;
            p.keys = Some(map);
        }
        Ok(())
    }

    /// A pane share as dive writes it: a fraction strictly between 0 and 1, kept in percent.
    fn share(r: &Reader, key: &str, v: &Value) -> Result<u16> {
        let bad = || {
            r.bad(
                key,
                format!(
                    "{} is not a share of the width between 0.1 and 0.9 (e.g. 0.4)",
                    shown(v)
                ),
            )
        };
        let f = v.as_f64().ok_or_else(bad)?;
        if !(0.1..=0.9).contains(&f) {
            return Err(bad());
        }
        Ok((f * 100.0).round() as u16)
    }

    fn filetree(r: &mut Reader, v: &Value, p: &mut Prefs) -> Result<()> {
        for (name, v) in r.entries("filetree", v)? {
            let key = format!("filetree.{name}");
            match name.as_str() {
                "show-attributes" => p.start.attrs = Some(r.bool(&key, v)?),
                "sort" => {
                    p.start.sort = match r.string(&key, v)? {
                        "name" => SortOrder::Name,
                        "size" => SortOrder::SizeDesc,
                        s => return Err(r.bad(&key, format!("{} is not name or size", quoted(s)))),
                    }
                }
                // dive's: the tree's share, so the layer pane has the rest
                "pane-width" => set_width(r, &key, 100 - share(r, &key, v)?, p)?,
                _ => r.unknown(&key),
            }
        }
        Ok(())
    }

    fn layer(r: &mut Reader, v: &Value, p: &mut Prefs) -> Result<()> {
        for (name, v) in r.entries("layer", v)? {
            let key = format!("layer.{name}");
            match name.as_str() {
                "show-aggregated-changes" => {
                    p.start.mode = if r.bool(&key, v)? {
                        LayerMode::Aggregated
                    } else {
                        LayerMode::ChangesOnly
                    }
                }
                "pane-width" => set_width(r, &key, share(r, &key, v)?, p)?,
                _ => r.unknown(&key),
            }
        }
        Ok(())
    }

    /// `layer.pane-width` and dive's `filetree.pane-width` say one thing: only one may.
    fn set_width(r: &Reader, key: &str, percent: u16, p: &mut Prefs) -> Result<()> {
        if p.start.layer_pane_percent.is_some() {
            return Err(r.bad(
                key,
                "give layer.pane-width or filetree.pane-width, not both".into(),
            ));
        }
        p.start.layer_pane_percent = Some(percent);
        Ok(())
    }

    fn diff(r: &mut Reader, v: &Value, p: &mut Prefs) -> Result<()> {
        for (name, v) in r.entries("diff", v)? {
            let key = format!("diff.{name}");
            if name != "hide" {
                r.unknown(&key);
                continue;
            }
            for w in r.words(&key, v)? {
                let m = match w.as_str() {
                    "added" => ChangeMark::Added,
                    "removed" => ChangeMark::Removed,
                    "modified" => ChangeMark::Modified,
                    "unmodified" => ChangeMark::Unchanged,
                    _ => {
                        return Err(r.bad(
                            &key,
                            format!(
                                "{} is not added, removed, modified or unmodified",
                                quoted(&w)
                            ),
                        ))
                    }
                };
                p.start.hide_mark(m);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    fn err(text: &str) -> String {
        parse(text, "c.yaml").unwrap_err().to_string()
    }

    #[test]
    fn located_by_flag_then_variable_then_xdg_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsStr::new(v).to_os_string())
            }
        };
        let all = env(&[
            ("BATHY_CONFIG", "/e/b.yaml"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(
            locate(Some(Path::new("f.yaml")), &all),
            Some((PathBuf::from("f.yaml"), true))
        );
        assert_eq!(locate(None, &all), Some((PathBuf::from("/e/b.yaml"), true)));
        let xdg = env(&[
            ("BATHY_CONFIG", ""),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(
            locate(None, xdg),
            Some((PathBuf::from("/x/bathy/config.yaml"), false))
        );
        // a relative XDG_CONFIG_HOME is not used (the XDG spec says to ignore it)
        let rel = env(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")]);
        assert_eq!(
            locate(None, rel),
            Some((PathBuf::from("/h/.config/bathy/config.yaml"), false))
        );
        assert_eq!(locate(None, env(&[])), None);
    }

    #[test]
    fn empty_and_comment_only_files_are_the_defaults() {
        for t in ["", "# nothing\n", "---\n", "\n\n"] {
            let c = parse(t, "c.yaml").unwrap();
            assert!(c.warnings.is_empty() && c.ci.is_none(), "{t:?}");
        }
    }

    #[test]
    fn unknown_keys_warn_once_each_naming_file_and_key_escaped() {
        let c = parse(
            "colour: red\nfiletree:\n  collapse-dir: true\n\"bad\\e[31m\": 1\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(
            c.warnings,
            [
                "c.yaml: ignoring unknown key \"colour\"",
                "c.yaml: ignoring unknown key \"filetree.collapse-dir\"",
                "c.yaml: ignoring unknown key \"bad\\x1b[31m\"",
            ]
        );
    }

    #[test]
    fn bad_values_are_one_error_naming_file_and_key() {
        assert_eq!(
            err("theme: blue\n"),
            "c.yaml: theme: \"blue\" is not a theme (dark, light, high-contrast, no-color)"
        );
        assert_eq!(
            err("filetree:\n  show-attributes: maybe\n"),
            "c.yaml: filetree.show-attributes: \"maybe\" is not true or false"
        );
        assert_eq!(
            err("layer:\n  pane-width: 1.5\n"),
            "c.yaml: layer.pane-width: 1.5 is not a share of the width between 0.1 and 0.9 (e.g. 0.4)"
        );
        assert_eq!(
            err("layer:\n  pane-width: 0.4\nfiletree:\n  pane-width: 0.6\n"),
            "c.yaml: filetree.pane-width: give layer.pane-width or filetree.pane-width, not both"
        );
        assert_eq!(
            err("diff:\n  hide: [added, moved]\n"),
            "c.yaml: diff.hide: \"moved\" is not added, removed, modified or unmodified"
        );
        assert_eq!(
            err("filetree:\n  sort: date\n"),
            "c.yaml: filetree.sort: \"date\" is not name or size"
        );
        assert_eq!(
            err("- a\n- b\n"),
            "c.yaml: a list where a mapping of settings belongs"
        );
        assert_eq!(
            err("ci: strict\n"),
            "c.yaml: ci: \"strict\" where a .dive-ci mapping (rules: ...) belongs"
        );
        assert!(err("theme: [\n").starts_with("c.yaml: "));
        let deep = format!("theme: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert!(err(&deep).contains("nested more than"), "{}", err(&deep));
    }

    #[test]
    fn the_ci_section_is_dive_ci_text_named_after_the_file() {
        let c = parse("ci:\n  rules:\n    lowestEfficiency: 0.95\n", "c.yaml").unwrap();
        let (name, text) = c.ci.unwrap();
        assert_eq!(name, "c.yaml: ci");
        let back: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(back["rules"]["lowestEfficiency"].as_f64(), Some(0.95));
    }

    #[cfg(feature = "tui")]
    #[test]
    fn explorer_settings_and_dive_names() {
        use crate::tui::keys::{action_name, Action};
        use crate::tui::theme::ThemeName;
        use crate::tui::treeview::{LayerMode, SortOrder};
        let c = parse(
            "theme: light\n\
             keybinding:\n  quit: ctrl+q\n  toggle-why: [y, 'ctrl+w']\n\
             filetree:\n  show-attributes: false\n  sort: size\n  pane-width: 0.7\n\
             layer:\n  show-aggregated-changes: false\n\
             diff:\n  hide: unmodified, removed\n",
            "c.yaml",
        )
        .unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let p = &c.explorer;
        assert_eq!(p.theme, Some(ThemeName::Light));
        assert_eq!(p.start.attrs, Some(false));
        assert_eq!(p.start.sort, SortOrder::SizeDesc);
        // dive's filetree.pane-width is the tree's share: the layer pane has 30 %
        assert_eq!(p.start.layer_pane_percent, Some(30));
        assert_eq!(p.start.mode, LayerMode::ChangesOnly);
        // by mark_index: added, modified, removed, unchanged
        assert_eq!(p.start.hide, [false, false, true, true]);
        let map = p.keys.as_ref().unwrap();
        let quit = map.iter().find(|b| b.action == Action::Quit).unwrap();
        assert_eq!(crate::tui::keys::keys_label(quit), "^Q");
        let why: Vec<_> = map
            .iter()
            .filter(|b| b.action == Action::ToggleWhy)
            .map(crate::tui::keys::keys_label)
            .collect();
        assert_eq!(why, ["y,^W", "y,^W"]);
        assert_eq!(action_name(Action::ToggleWhy), "toggle-why");
        assert_eq!(action_name(Action::LayerAggregated), "compare-all");
    }

    #[cfg(feature = "tui")]
    #[test]
    fn bad_keybindings_name_the_action() {
        assert!(err("keybinding:\n  fly: x\n").starts_with(
            "c.yaml: keybinding.fly: no explorer action is called \"fly\" (actions: "
        ));
        assert_eq!(
            err("keybinding:\n  quit: ctrl+banana\n"),
            "c.yaml: keybinding.quit: \"ctrl+banana\" is not a key (a character, a name such as \
             space, tab, esc, pgdn, f5, maybe after ctrl+, alt+ or shift+)"
        );
        // j moves down everywhere: quitting on it would take that away
        assert_eq!(
            err("keybinding:\n  quit: j\n"),
            "c.yaml: keybinding.quit: j is bound to both quit and down"
        );
        // two rebound actions on one key: named as the section
        assert_eq!(
            err("keybinding:\n  quit: x\n  help: x\n"),
            "c.yaml: keybinding: x is bound to both quit and help"
        );
        assert_eq!(
            err("keybinding:\n  quit: 3\n"),
            "c.yaml: keybinding.quit: 3 where keys belong"
        );
    }
}
