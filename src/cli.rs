//! Command-line arguments as clap types; `cli_front` turns them into work through `pipeline`.
//! Nothing here reads images.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The argument groups the pipeline reads, flattened into the command line here.
pub use crate::pipeline::{LoadArgs, WhyArgs};

/// `bathy --version`: the version, then which gzip inflater this build has (build.rs links
/// the system's ISA-L when it finds it, else zlib-rs inflates).
#[cfg(bathy_isal)]
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ngzip: ISA-L igzip (the system's libisal)"
);
#[cfg(not(bathy_isal))]
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ngzip: zlib-rs (built without ISA-L: install libisal-dev and rebuild for faster gzip)"
);

/// The arguments with leading `--config FILE` pairs moved after a subcommand's name, so that
/// `bathy --config c.yaml man` runs `man` (clap takes any argument before the subcommand as
/// the start of the top-level form, which would read `man` as an image).
pub fn subcommand_first(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<_> = args.into_iter().collect();
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        if arg == "--config" {
            i += 2;
        } else if arg.starts_with("--config=") {
            i += 1;
        } else {
            break;
        }
    }
    let command = <Cli as clap::CommandFactory>::command();
    let is_subcommand = args.get(i).is_some_and(|name| {
        let name = name.to_string_lossy();
        command
            .get_subcommands()
            .any(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name))
    });
    if i > 1 && i < args.len() && is_subcommand {
        let globals: Vec<_> = args.drain(1..i).collect();
        args.splice(2..2, globals);
    }
    args
}

#[derive(Parser, Debug)]
#[command(
    name = "bathy",
    version,
    long_version = LONG_VERSION,
    about = "See what is inside a container image and why it is big",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Read settings from FILE (theme, keys, the explorer's start, CI defaults) instead of
    /// $BATHY_CONFIG or $XDG_CONFIG_HOME/bathy/config.yaml (README: "The config file").
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Image to explore: an archive path, an OCI layout directory, or a reference.
    #[arg(required = true)]
    pub image: Option<String>,

    #[command(flatten)]
    pub load: LoadArgs,

    /// Write the JSON report (dive's export plus `bathyscaphe` keys) to FILE (`-` for stdout) and exit.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write the HTML report (one self-contained page with a treemap) to FILE; combines with
    /// `--json` and `--ci` (one analysis, several outputs).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Print the text report even on a terminal (no explorer).
    #[arg(long)]
    pub no_tui: bool,

    #[command(flatten)]
    pub ci: crate::ci_config::CiArgs,

    #[command(flatten)]
    pub why: WhyArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compare two images: what changed between them and why it grew.
    Compare {
        /// The image before (the baseline): an archive path, an OCI layout directory, or a reference.
        a: String,
        /// The image after.
        b: String,
        /// Write the comparison as JSON to FILE (`-` for stdout).
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write the comparison as one self-contained HTML page to FILE.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Gate a pipeline: print the evaluation and exit 1 when a rule fails (2 on an error).
        #[arg(long)]
        ci: bool,
        /// Fail when B is larger than A by more than this: bytes (20MB = 20·10^6, 20MiB = 20·2^20; the sizes of docs/ci.md) or a percentage of A (5%). Implies --ci.
        #[arg(long, value_name = "SIZE|N%", value_parser = clap::value_parser!(crate::analysis::ci_rules::Threshold<crate::units::Limit>))]
        max_growth: Option<crate::analysis::ci_rules::Threshold<crate::units::Limit>>,
        /// Fail when B has build-tool leftovers that A does not. Implies --ci.
        #[arg(long)]
        fail_on_new_leftovers: bool,
    },
    /// Write the multi-stage Dockerfile that ships only the runtime closure (the original build
    /// as its build stage); with --verify, build it and check it against the original.
    Suggest(SuggestArgs),
    /// Write one file's bytes (the version visible at a layer) to stdout; escaped on a terminal.
    Cat {
        /// The image: an archive path or an OCI layout directory.
        image: String,
        /// The file's path in the image (symlinks are followed inside the image).
        path: String,
        /// The layer (0 = the first) whose filesystem to read; default: the last (the final filesystem).
        #[arg(long, value_name = "N")]
        layer: Option<usize>,
    },
    /// Print a unified diff of one file between two layers (default: its last two versions).
    Diff {
        /// The image: an archive path or an OCI layout directory.
        image: String,
        /// The file's path in the image.
        path: String,
        /// The layer whose version is the old side (default: the version before --to's).
        #[arg(long, value_name = "N")]
        from: Option<usize>,
        /// The layer whose version is the new side (default: the last version).
        #[arg(long, value_name = "M")]
        to: Option<usize>,
    },
    /// Print the shell completion script for SHELL to stdout (installing it: see the README).
    Completions {
        /// The shell: bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `bathy man > bathy.1`.
    Man,
}

/// The completion script for `shell`, generated from the command line above.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "bathy",
        &mut out,
    );
    out
}

/// The man page in roff, generated from the command line above.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
    Ok(out)
}

/// `bathy suggest`'s arguments.
#[derive(clap::Args, Debug)]
pub struct SuggestArgs {
    /// The image to rewrite: an archive path, an OCI layout directory, or a reference.
    pub image: String,
    /// The Dockerfile the image was built from: its stages become the build stage (without
    /// it, the build stage is reconstructed from the image's history).
    #[arg(long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,
    /// The Dockerfile stage that was built (default: the last).
    #[arg(long, value_name = "STAGE", requires = "dockerfile")]
    pub target: Option<String>,
    /// Write the Dockerfile to FILE (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The runtime stage's base image, instead of the smallest one the closure fits.
    #[arg(long, value_name = "IMAGE")]
    pub runtime_base: Option<String>,
    /// Build the suggestion with the Docker daemon, compare it with the original and smoke-test
    /// both (exit 0: it holds, 1: the build or a check failed, 2: an error).
    #[arg(long)]
    pub verify: bool,
    /// The build context for --verify (default: the Dockerfile's directory).
    #[arg(long, value_name = "DIR", requires = "verify")]
    pub context: Option<PathBuf>,
    /// Run the entrypoint with these arguments (split at spaces) in both images, without
    /// network, and compare exit codes and output.
    #[arg(
        long,
        value_name = "ARGS",
        requires = "verify",
        conflicts_with = "smoke_alive",
        allow_hyphen_values = true
    )]
    pub smoke: Option<String>,
    /// For a server that never exits: pass when the entrypoint still runs after SECONDS in both.
    #[arg(long, value_name = "SECONDS", requires = "verify")]
    pub smoke_alive: Option<u64>,
}
