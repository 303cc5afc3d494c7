//! The config file through the binary: where it is found, what a bad one does (one line
//! naming the file and key, exit 2, before any image is read), hostile files, the `ci:`
//! defaults; the README's example loads as written; a rebinding reaches the explorer.
#![allow(clippy::unwrap_used)]

mod common;

use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::{stderr, stdout, tmp};
use std::path::Path;
use std::process::Output;

/// bathy in `dir` with only the environment given here (no user config leaks in).
fn bathy_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = common::bathy();
    c.args(args)
        .current_dir(dir)
        .env_remove("CI")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// One layer writes 10,000 bytes, the next overwrites them with 10,000 others: dive's
/// efficiency is the 10,000 bytes seen over the 20,000 written, 50 %.
fn image(dir: &Path) -> String {
    let p = dir.join("img.tar");
    ImageSpec::new("cfg/test:1")
        .layer(LayerSpec::new("/bin/sh -c #(nop) ADD a in /").file("data", &filler(10_000, 1)))
        .layer(LayerSpec::new("/bin/sh -c make").file("data", &filler(10_000, 2)))
        .write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    p.display().to_string()
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn a_bad_value_is_one_line_naming_file_and_key_and_exit_2() {
    let d = tmp();
    std::fs::write(d.path().join("c.yaml"), "filetree:\n  sort: date\n").unwrap();
    // the image does not exist: the config is checked first, so that error never comes
    let o = bathy_env(
        d.path(),
        &["--config", "c.yaml", "missing.tar", "--no-tui"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        lines(&stderr(&o)),
        ["bathy: c.yaml: filetree.sort: \"date\" is not name or size"]
    );
    assert_eq!(stdout(&o), "");
    // the man page does not depend on settings, so a broken file does not keep it from a user
    let o = bathy_env(d.path(), &["man", "--config", "c.yaml"], &[]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(0), String::new()));
    assert!(stdout(&o).contains(".TH bathy"), "{}", stdout(&o));
}

#[test]
fn unknown_keys_warn_and_the_run_goes_on() {
    let d = tmp();
    let img = image(d.path());
    std::fs::write(
        d.path().join("c.yaml"),
        "log:\n  enabled: true\nfiletree:\n  collapse: false\n",
    )
    .unwrap();
    let o = bathy_env(d.path(), &["--config", "c.yaml", &img, "--no-tui"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("bathy: warning: c.yaml: ignoring unknown key \"log\"\n"),
        "{err}"
    );
    assert!(
        err.contains("bathy: warning: c.yaml: ignoring unknown key \"filetree.collapse\"\n"),
        "{err}"
    );
    assert!(stdout(&o).contains("cfg/test:1"));
}

#[test]
fn found_by_flag_variable_or_xdg_and_a_named_file_must_exist() {
    let d = tmp();
    let bad = "theme: sepia\n";
    let xdg = d.path().join("xdg");
    std::fs::create_dir_all(xdg.join("bathy")).unwrap();
    std::fs::write(xdg.join("bathy/config.yaml"), bad).unwrap();
    std::fs::write(d.path().join("env.yaml"), bad).unwrap();
    let sepia = "is not a theme (dark, light, high-contrast, no-color)";
    // the XDG default is read when nothing names a file
    let x = xdg.display().to_string();
    let o = bathy_env(d.path(), &["x.tar"], &[("XDG_CONFIG_HOME", &x)]);
    assert_eq!(o.status.code(), Some(2));
    let want = format!(
        "bathy: {}: theme: \"sepia\" {sepia}\n",
        xdg.join("bathy/config.yaml").display()
    );
    assert_eq!(stderr(&o), want);
    // BATHY_CONFIG goes before it, --config before both
    let o = bathy_env(
        d.path(),
        &["x.tar"],
        &[("XDG_CONFIG_HOME", &x), ("BATHY_CONFIG", "env.yaml")],
    );
    assert_eq!(
        stderr(&o),
        format!("bathy: env.yaml: theme: \"sepia\" {sepia}\n")
    );
    std::fs::write(d.path().join("good.yaml"), "theme: light\n").unwrap();
    let o = bathy_env(
        d.path(),
        &["--config", "good.yaml", "x.tar", "--no-tui"],
        &[("XDG_CONFIG_HOME", &x), ("BATHY_CONFIG", "env.yaml")],
    );
    assert!(!stderr(&o).contains("sepia"), "{}", stderr(&o));
    // a file the user names must be there; the default need not be
    let o = bathy_env(d.path(), &["--config", "none.yaml", "x.tar"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("bathy: none.yaml: "),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1);
    let img = image(d.path());
    let o = bathy_env(d.path(), &[&img, "--no-tui"], &[]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(0), String::new()));
}

#[test]
fn hostile_config_files_are_refused_by_name() {
    let d = tmp();
    let run = |p: &str| bathy_env(d.path(), &["--config", p, "x.tar"], &[]);
    let o = run("/dev/zero");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "bathy: /dev/zero: not a regular file (a character device)\n"
    );
    // a FIFO would block the read forever: refused before it is opened
    let fifo = d.path().join("fifo");
    let mk = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(mk.success());
    let o = run("fifo");
    assert_eq!(stderr(&o), "bathy: fifo: not a regular file (a FIFO)\n");
    // larger than the cap: refused without being read whole
    let big = d.path().join("big.yaml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(2 << 20).unwrap();
    let o = run("big.yaml");
    assert_eq!(
        stderr(&o),
        "bathy: big.yaml: larger than the 1 MiB limit for this file\n"
    );
    std::fs::write(d.path().join("bin.yaml"), b"theme: \xff\xfe\n").unwrap();
    assert_eq!(
        stderr(&run("bin.yaml")),
        "bathy: bin.yaml: not UTF-8 text\n"
    );
    let deep = format!("theme: {}\n", "[".repeat(100_000));
    std::fs::write(d.path().join("deep.yaml"), deep).unwrap();
    let o = run("deep.yaml");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "bathy: deep.yaml: line 1: nested more than 64 levels deep\n"
    );
    // a key with terminal escapes is warned about escaped, and a value quoting one is too;
    // an error is the one line (the warnings before it are not worth reading then)
    std::fs::write(d.path().join("esc.yaml"), "\"\\e]0;pwned\\a\": 1\n").unwrap();
    let o = bathy_env(
        d.path(),
        &["--config", "esc.yaml", "--no-tui", &image(d.path())],
        &[],
    );
    let err = stderr(&o);
    assert_eq!(
        lines(&err),
        ["bathy: warning: esc.yaml: ignoring unknown key \"\\x1b]0;pwned\\x07\""]
    );
    std::fs::write(
        d.path().join("esc.yaml"),
        "\"\\e]0;x\": 1\ntheme: \"\\e[2J\"\n",
    )
    .unwrap();
    let err = stderr(&run("esc.yaml"));
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert_eq!(
        lines(&err),
        ["bathy: esc.yaml: theme: \"\\x1b[2J\" is not a theme (dark, light, high-contrast, no-color)"]
    );
}

#[test]
fn the_ci_section_sets_defaults_that_dive_ci_and_flags_override() {
    let d = tmp();
    let img = image(d.path());
    // efficiency 50 %: a 0.4 floor passes, a 0.6 floor fails
    std::fs::write(
        d.path().join("c.yaml"),
        "ci:\n  rules:\n    lowest-efficiency: 0.6\n    highest-user-wasted-percent: disabled\n",
    )
    .unwrap();
    let ci = |extra: &[&str]| {
        let mut args = vec!["--config", "c.yaml", img.as_str(), "--ci"];
        args.extend_from_slice(extra);
        bathy_env(d.path(), &args, &[])
    };
    let o = ci(&[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("0.6"), "{}", stdout(&o));
    // the flag has the last word
    let o = ci(&["--lowest-efficiency", "0.4"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // and a project's .dive-ci goes over the user's defaults
    std::fs::write(
        d.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.4\n",
    )
    .unwrap();
    let o = ci(&[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // a bad value there names the config file's ci section
    std::fs::remove_file(d.path().join(".dive-ci")).unwrap();
    std::fs::write(
        d.path().join("c.yaml"),
        "ci:\n  rules:\n    lowest-efficiency: lots\n",
    )
    .unwrap();
    let o = ci(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("bathy: c.yaml: ci: rules.lowest-efficiency"),
        "{}",
        stderr(&o)
    );
}

/// The README's example, cut from the README as the reader sees it.
fn readme_example() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split("\n## The config file\n").nth(1).unwrap();
    let block = section.split("```yaml\n").nth(1).unwrap();
    block.split("```").next().unwrap().to_string()
}

#[test]
fn the_readme_example_loads_as_written() {
    let text = readme_example();
    let c = bathyscaphe::config_file::parse(&text, "config.yaml").unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let (name, ci) = c.ci.unwrap();
    assert_eq!(name, "config.yaml: ci");
    assert!(ci.contains("lowest-efficiency: 0.95"), "{ci}");
    #[cfg(feature = "tui")]
    {
        use bathyscaphe::tui::keys::{keys_label, Action};
        use bathyscaphe::tui::theme::ThemeName;
        use bathyscaphe::tui::treeview::SortOrder;
        let p = &c.explorer;
        assert_eq!(p.theme, Some(ThemeName::Light));
        assert_eq!(p.start.sort, SortOrder::SizeDesc);
        assert_eq!(p.start.attrs, Some(false));
        assert_eq!(p.start.layer_pane_percent, Some(45));
        assert_eq!(p.start.hide, [false, false, false, true]);
        let why = p.keys.as_ref().unwrap();
        let why = why.iter().find(|b| b.action == Action::ToggleWhy).unwrap();
        assert_eq!(keys_label(why), "b,y");
    }
    // and the binary takes it without a word
    let d = tmp();
    let img = image(d.path());
    std::fs::write(d.path().join("config.yaml"), &text).unwrap();
    let o = bathy_env(
        d.path(),
        &["--config", "config.yaml", &img, "--no-tui"],
        &[],
    );
    assert_eq!((o.status.code(), stderr(&o)), (Some(0), String::new()));
}

/// The config file's settings reach the explorer: a rebound key works and the key bar shows
/// it, the old key no longer does, the tree starts as configured, the theme is in use.
#[cfg(feature = "tui")]
#[test]
fn the_explorer_takes_the_config_files_settings() {
    use bathyscaphe::analysis::Analysis;
    use bathyscaphe::source::{load_path, LoadOptions};
    use bathyscaphe::tui::keys::{self, Action, Scope};
    use bathyscaphe::tui::state::{App, Explorer};
    use bathyscaphe::tui::theme::{self, ThemeName};
    use bathyscaphe::tui::treeview::{LayerMode, SortOrder};
    use bathyscaphe::tui::{self as tui, prefs};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::backend::TestBackend;
    use ratatui::layout::Rect;
    use ratatui::style::Color;
    use ratatui::Terminal;

    let c = bathyscaphe::config_file::parse(
        "theme: high-contrast\nkeybinding:\n  quit: ctrl+q\n  compare-layer: x\n\
         filetree:\n  sort: size\n  show-attributes: false\n\
         layer:\n  pane-width: 0.5\n  show-aggregated-changes: false\n",
        "c.yaml",
    )
    .unwrap();
    prefs::install(&c.explorer);
    let ev = |code, m| KeyEvent::new(code, m);
    let none = KeyModifiers::NONE;
    assert_eq!(
        keys::lookup(
            Scope::Layers,
            &ev(KeyCode::Char('q'), KeyModifiers::CONTROL)
        ),
        Some(Action::Quit)
    );
    assert_eq!(
        keys::lookup(Scope::Layers, &ev(KeyCode::Char('q'), none)),
        None
    );
    assert_eq!(
        keys::lookup(Scope::Layers, &ev(KeyCode::Char('x'), none)),
        Some(Action::LayerChangesOnly)
    );
    let d = tmp();
    let img = image(d.path());
    let image = load_path(Path::new(&img), &LoadOptions::default()).unwrap();
    let analysis = Analysis::run(&image);
    let ex = Explorer::new(image, analysis);
    assert_eq!(ex.tree.sort, SortOrder::SizeDesc);
    assert_eq!(ex.tree.mode, LayerMode::ChangesOnly);
    assert_eq!(ex.tree.attrs, Some(false));
    let app = App::explorer(ex, Rect::new(0, 0, 80, 24));
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| tui::draw(f, &app)).unwrap();
    let b = t.backend().buffer().clone();
    let row = |y: u16| (0..80u16).map(|x| b[(x, y)].symbol()).collect::<String>();
    // the key bar shows the keys in force
    assert!(row(23).contains(" ^Q  Quit"), "{}", row(23));
    assert!(row(23).contains(" x  Layer changes"), "{}", row(23));
    assert!(!row(23).contains("q,^C"), "{}", row(23));
    // half the width for the layer pane: the tree's border starts at column 40
    assert_eq!(b[(40, 0)].symbol(), "┌");
    assert_eq!(b[(39, 0)].symbol(), "┐");
    // high-contrast: the focused border is bright yellow
    assert_eq!(b[(0, 0)].fg, Color::LightYellow);
    assert_eq!(theme::current().name, ThemeName::HighContrast);
    // back to the defaults for whatever else this thread runs
    prefs::install(&Default::default());
}
