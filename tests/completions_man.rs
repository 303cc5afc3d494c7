//! `bathy completions SHELL` and `bathy man`: every script is accepted by its shell's parser
//! and offers every subcommand (bash's is run: completing `bathy c` offers the subcommands
//! starting with c); the man page is formatted by groff without a warning and names every
//! subcommand.

mod common;
use bathyscaphe::cli::Cli;
use clap::CommandFactory;
use common::*;
use std::process::Command;

const ZSH: Tool = Tool {
    name: "zsh",
    version_arg: "--version",
    install: "apt-get install zsh",
};
const FISH: Tool = Tool {
    name: "fish",
    version_arg: "--version",
    install: "apt-get install fish",
};
const GROFF: Tool = Tool {
    name: "groff",
    version_arg: "--version",
    install: "apt-get install groff-base",
};

/// The subcommands, written out (those of this issue and before), and every one clap knows
/// (so one added later is covered too).
fn subcommands() -> Vec<String> {
    let mut v: Vec<String> = ["compare", "cat", "diff", "completions", "man"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in Cli::command().get_subcommands() {
        let name = c.get_name().to_string();
        if name != "help" && !v.contains(&name) {
            v.push(name);
        }
    }
    v
}

fn output_of(args: &[&str]) -> String {
    let dir = tmp();
    let o = run(args, dir.path());
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Run `shell -n` (parse only) on `script`.
fn parses(shell: &str, script: &str) {
    let dir = tmp();
    let p = dir.path().join("bathy.completion");
    std::fs::write(&p, script).expect("write script");
    let o = Command::new(shell)
        .arg("-n")
        .arg(&p)
        .output()
        .expect("run shell");
    assert!(
        o.status.success(),
        "{shell} -n rejects the script: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn every_script_names_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = output_of(&["completions", shell]);
        for sub in subcommands() {
            assert!(script.contains(&sub), "{shell}: no {sub}");
        }
        // and the flags of this issue
        for flag in [
            "forbid-paths-anywhere",
            "ignore-paths",
            "summary",
            "ci-format",
        ] {
            assert!(script.contains(flag), "{shell}: no --{flag}");
        }
    }
    let dir = tmp();
    let o = run(&["completions", "tcsh"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn bash_completes_the_subcommands() {
    let script = output_of(&["completions", "bash"]);
    parses("bash", &script);
    let dir = tmp();
    let p = dir.path().join("bathy.bash");
    std::fs::write(&p, &script).expect("write script");
    // what bash does on `bathy c<TAB>` and on `bathy --ci-format <TAB>`
    let probe = format!(
        "source {}\n\
         COMP_WORDS=(bathy c); COMP_CWORD=1; COMP_LINE='bathy c'; COMP_POINT=7\n\
         _bathy bathy c bathy; echo \"${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(bathy --ci-format ''); COMP_CWORD=2; COMP_LINE='bathy --ci-format '; COMP_POINT=18\n\
         _bathy bathy '' --ci-format; echo \"${{COMPREPLY[*]}}\"\n",
        p.display()
    );
    let o = Command::new("bash")
        .arg("-c")
        .arg(&probe)
        .output()
        .expect("run bash");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "{out} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for sub in ["compare", "cat", "completions"] {
        assert!(lines[0].contains(&sub), "bathy c<TAB>: {:?}", lines[0]);
    }
    assert!(!lines[0].contains(&"diff"), "{:?}", lines[0]);
    let mut formats = lines[1].clone();
    formats.sort_unstable();
    assert_eq!(
        formats,
        ["github", "json", "junit", "markdown", "sarif", "text"]
    );
}

#[test]
fn zsh_and_fish_parse_their_scripts() {
    if require_tool(&ZSH) {
        parses("zsh", &output_of(&["completions", "zsh"]));
    }
    if require_tool(&FISH) {
        parses("fish", &output_of(&["completions", "fish"]));
    }
}

#[test]
fn man_page_formats_cleanly_and_names_every_subcommand() {
    let page = output_of(&["man"]);
    assert!(page.contains(".TH bathy 1"), "a man page of section 1");
    if !require_tool(&GROFF) {
        return;
    }
    let dir = tmp();
    let p = dir.path().join("bathy.1");
    std::fs::write(&p, &page).expect("write page");
    // -ww: every warning; -z: format, print nothing but the warnings
    let o = Command::new("groff")
        .args(["-man", "-ww", "-z", "-T", "utf8"])
        .arg(&p)
        .output()
        .expect("run groff");
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr), "", "groff warns");
    let o = Command::new("groff")
        .args(["-man", "-T", "utf8", "-P", "-cbou"])
        .arg(&p)
        .output()
        .expect("run groff");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS"] {
        assert!(text.contains(section), "no {section} in\n{text}");
    }
    for sub in subcommands() {
        assert!(
            text.contains(&format!("bathy-{sub}")) || text.contains(&format!("{sub}(1)")),
            "{sub} not in\n{text}"
        );
    }
    assert!(text.contains("--forbid-paths-anywhere"), "{text}");
}

/// `--config FILE` before a subcommand's name still runs the subcommand (it used to read `man`
/// as an image name), and the top-level form still takes an image after it.
#[test]
fn config_before_a_subcommand_runs_the_subcommand() {
    let dir = tmp();
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "theme: light\n").expect("write config");
    let config = config.to_string_lossy().into_owned();
    let page = output_of(&["--config", &config, "man"]);
    assert!(page.contains(".TH bathy 1"), "a man page");
    let joined = format!("--config={config}");
    let script = output_of(&[joined.as_str(), "completions", "bash"]);
    assert!(script.contains("compare"), "a completion script");
    // not a subcommand: still the image
    let o = Command::new(env!("CARGO_BIN_EXE_bathy"))
        .args(["--config", &config, "--no-tui", "no-such-image.tar"])
        .output()
        .expect("run bathy");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no-such-image.tar"), "{err}");
}
