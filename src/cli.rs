//! Command-line arguments as clap types; `cli_front` turns them into work through `pipeline`.
//! Nothing here reads images.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The argument groups the pipeline reads, flattened into the command line here.
pub use crate::pipeline::{LoadArgs, WhyArgs};

#[derive(Parser, Debug)]
#[command(
    name = "bathy",
    version,
    about = "See what is inside a container image and why it is big",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Image to explore: an archive path, an OCI layout directory, or a reference.
    #[arg(required = true)]
    pub image: Option<String>,

    #[command(flatten)]
    pub load: LoadArgs,

    /// Write the JSON report (dive's export plus `bathyscaphe` keys) to FILE (`-` for stdout) and exit.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

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
}
