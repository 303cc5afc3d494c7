//! bathyscaphe: what is inside a container image and why it is big.
//!
//! One way through: [`source`] reads archives and daemons into the [`image`] model; [`tree`]
//! merges layers by the OCI rules; [`analysis`] measures waste (dive's numbers and true waste);
//! [`report`] writes text and JSON; [`pipeline`] turns the arguments into loads and analyses
//! and hands the results to a front end: [`cli_front`] (text, JSON, CI) or the explorer (`tui`).

pub mod error;
pub mod image;
pub mod paths;
pub mod progress;
pub mod source;

pub use error::{Error, Result};
pub mod analysis;
pub mod ci_config;
pub mod cli;
pub mod cli_front;
pub mod config_file;
pub mod contents;
#[cfg(feature = "testkit")]
pub mod demo;
pub mod exit_codes;
pub mod pipeline;
pub mod report;
pub mod small_file;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod text_fit;
pub mod tree;
#[cfg(feature = "tui")]
pub mod tui;
pub mod units;
