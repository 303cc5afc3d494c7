//! The command line's front end: parse the arguments, have the pipeline load and analyse, and
//! write text, JSON or a CI evaluation (or open the explorer on a terminal). Errors end here as
//! one line on stderr and exit status 2.

use crate::cli::{Cli, WhyArgs};
use crate::error::Error;
use crate::exit_codes;
use crate::image::Image;
use crate::pipeline::{self, Analysed, Keep, LoadConfig, Watch};
use crate::progress::{Progress, ProgressSnapshot};
use crate::report;
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// Run the program; returns the exit status.
pub fn run() -> i32 {
    let cli = Cli::parse();
    match run_cli(cli) {
        Ok(code) => code,
        Err(e) => {
            // our errors already name their cause: print the chain only where it adds words
            eprintln!("bathy: {}", one_line(&e));
            exit_codes::ERROR
        }
    }
}

fn run_cli(cli: Cli) -> anyhow::Result<i32> {
    let config = LoadConfig::from_args(&cli.load);
    if let Some(cmd) = cli.command {
        return match cmd {
            crate::cli::Command::Compare {
                a,
                b,
                json,
                ci,
                max_growth,
                fail_on_new_leftovers,
            } => {
                let gate = crate::analysis::ci_rules::CiThresholds {
                    max_growth,
                    no_new_leftovers: fail_on_new_leftovers,
                    ..Default::default()
                };
                let ci = ci || gate.max_growth.is_some() || gate.no_new_leftovers;
                run_compare(
                    &a,
                    &b,
                    json.as_deref(),
                    ci.then_some(gate),
                    &config,
                    &cli.why,
                )
            }
        };
    }
    let Some(target) = cli.image.clone() else {
        return Err(anyhow::anyhow!("no image given"));
    };
    let other_output = cli.json.is_some() || cli.no_tui;
    if cli
        .ci
        .enabled(std::env::var("CI").ok().as_deref(), other_output)
    {
        return run_ci(&cli, &config, &target);
    }
    #[cfg(feature = "tui")]
    if cli.json.is_none() && !cli.no_tui && std::io::stdout().is_terminal() {
        return crate::tui::run(&target, &config, &cli.why);
    }
    let a = load_analysed(&target, &config, &cli.why)?;
    if let Some(path) = &cli.json {
        write_report_json(path, &a)?;
        return Ok(exit_codes::OK);
    }
    print!("{}", report::text::render(&a.image, &a.analysis));
    println!();
    print!(
        "{}",
        report::text::render_why(&report::why::WhyView::new(&a.why))
    );
    Ok(exit_codes::OK)
}

/// The JSON report: dive's export, our keys, and the why-analysis sections.
fn write_report_json(path: &Path, a: &Analysed) -> anyhow::Result<()> {
    let mut bathy = report::json::bathy_report(&a.image, &a.analysis);
    bathy.why = Some((&a.why).into());
    write_json(path, |w| {
        report::json::write_export(&a.image, &a.analysis, &bathy, w)
    })
}

/// The why-options first (a bad `--rules` file should not cost an image load), then the image,
/// then the analyses.
fn load_analysed(target: &str, config: &LoadConfig, why: &WhyArgs) -> anyhow::Result<Analysed> {
    let (why_opts, notes) = watched(|w| pipeline::why_options(why, config, w))?;
    print_notes(notes.iter());
    let image = load_image(target, config, Keep::Contents)?;
    Ok(pipeline::analyse(image, &why_opts))
}

/// Load one image with a progress line on a terminal, then show the loader's notes.
fn load_image(target: &str, config: &LoadConfig, keep: Keep) -> anyhow::Result<Image> {
    let image = watched(|w| pipeline::load(target, config, keep, w))?;
    print_notes(image.warnings.iter());
    Ok(image)
}

/// The loaders' notes (the explorer shows them in its status line instead).
fn print_notes<'a>(notes: impl Iterator<Item = &'a String>) {
    for n in notes {
        eprintln!("bathy: {n}");
    }
}

/// `--ci`: evaluate the rules, write the evaluation, and exit 0 (all pass) or 1 (one failed).
fn run_ci(cli: &Cli, config: &LoadConfig, target: &str) -> anyhow::Result<i32> {
    use crate::analysis::ci_rules as rules;
    use crate::ci_config;
    let cwd = std::env::current_dir()?;
    // the config first: a bad one should not cost an image load
    let settings = ci_config::load(&cli.ci, &cwd)?;
    for w in &settings.warnings {
        eprintln!("bathy: warning: {w}");
    }
    if let Some(p) = &settings.config_file {
        eprintln!("Using CI config: {}", p.display());
    }
    let a = load_analysed(target, config, &cli.why)?;
    if let Some(path) = &cli.json {
        write_report_json(path, &a)?;
    }
    let baseline = match &cli.ci.baseline {
        Some(b) => Some(rules::Baseline::of(&load_image(
            b,
            &config.without_image_choice(),
            Keep::LayersOnly,
        )?)),
        None => None,
    };
    let leftovers = a.why.leftover_summary();
    let input = rules::CiInput {
        image: &a.image,
        analysis: &a.analysis,
        leftovers: Some(&leftovers),
        baseline: baseline.as_ref(),
        comparison: None,
    };
    let evaluation = rules::evaluate(&settings.rules, &input);
    let color = ci_config::use_color(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let out = report::ci::render_outputs(
        cli.ci.ci_format,
        cli.ci.ci_report.as_deref(),
        &evaluation,
        &cwd,
        target,
        color,
    );
    if let Some((path, text)) = &out.report_file {
        write_output(path, text)?;
    }
    write_output(Path::new("-"), out.stdout.trim_end())?;
    Ok(if evaluation.pass {
        exit_codes::OK
    } else {
        exit_codes::RULE_FAILED
    })
}

/// `bathy compare A B`: load both (shared layers read once), analyse, diff, report or gate.
fn run_compare(
    a: &str,
    b: &str,
    json: Option<&Path>,
    gate: Option<crate::analysis::ci_rules::CiThresholds>,
    config: &LoadConfig,
    why: &WhyArgs,
) -> anyhow::Result<i32> {
    let why_opts = pipeline::compare_why_options(why)?;
    // on a terminal, the compare view (the text report on a pipe, with --json, --ci or CI=true)
    #[cfg(feature = "tui")]
    if gate.is_none()
        && json.is_none()
        && std::io::stdout().is_terminal()
        && !std::env::var("CI").is_ok_and(|v| crate::ci_config::truthy(&v))
    {
        return crate::tui::run_compare(a, b, config, why_opts);
    }
    let pair = watched_pair(|wa, wb| {
        pipeline::compare_images(a, b, config, &why_opts, gate.as_ref(), [wa, wb])
    })?;
    print_notes(pair.notes.iter().flatten());
    let c = pair.comparison;
    if let Some(path) = json {
        let doc = report::compare_json::build(&c, pair.evaluation.as_ref());
        write_json(path, |w| serde_json::to_writer_pretty(w, &doc))?;
    }
    if let Some(e) = &pair.evaluation {
        // with --json - the JSON is the output; the evaluation goes to stderr
        let text = report::ci::compare_text(&c, e);
        if json.is_some_and(|p| p.as_os_str() == "-") {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
        return Ok(if !e.pass {
            exit_codes::RULE_FAILED
        } else {
            exit_codes::OK
        });
    }
    if json.is_none() {
        print!("{}", report::compare_text::render(&c));
    }
    Ok(exit_codes::OK)
}

/// An error and its causes on one line, each cause once (library errors already include
/// their source's text in their own message).
fn one_line(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out.replace('\n', " ")
}

/// Write to FILE, or stdout for `-`.
pub fn write_output(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        return Ok(());
    }
    std::fs::write(path, format!("{text}\n")).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(())
}

/// Stream JSON to FILE, or stdout for `-`.
pub fn write_json(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> serde_json::Result<()>,
) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        f(&mut out)?;
        out.write_all(b"\n")?;
        out.flush()?;
        return Ok(());
    }
    let file = std::fs::File::create(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut out = std::io::BufWriter::new(file);
    f(&mut out)?;
    out.write_all(b"\n")?;
    out.flush().map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(())
}

/// The one line on a terminal's stderr that follows the loads of a command: the progress of
/// the load under way, or the daemon's status while `--pull` pulls. Nothing is shown when
/// stderr is not a terminal.
struct StatusLine {
    progress: Vec<Arc<Progress>>,
    /// Set once the daemon reports on a pull.
    #[cfg_attr(not(feature = "daemon"), allow(dead_code))]
    pulling: Arc<AtomicBool>,
    /// Dropped to stop the ticker (which wakes at once, not at its next tick).
    stop: Option<mpsc::Sender<()>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

/// Run `f` with a [`Watch`] shown on the status line.
fn watched<T>(f: impl FnOnce(&Watch) -> T) -> T {
    let line = StatusLine::start(1);
    f(&line.watch(0))
}

/// Run `f` with a [`Watch`] for each of two images loaded one after the other.
fn watched_pair<T>(f: impl FnOnce(&Watch, &Watch) -> T) -> T {
    let line = StatusLine::start(2);
    f(&line.watch(0), &line.watch(1))
}

impl StatusLine {
    fn start(loads: usize) -> StatusLine {
        let progress: Vec<_> = (0..loads).map(|_| Arc::new(Progress::new())).collect();
        let pulling = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let ticker = std::io::stderr().is_terminal().then(|| {
            let (progress, pulling) = (progress.clone(), pulling.clone());
            std::thread::spawn(move || {
                let mut shown = false;
                // a load done within the first tick shows nothing
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(std::time::Duration::from_millis(150))
                {
                    // the load under way: the last one that has started
                    let s = progress
                        .iter()
                        .map(|p| p.snapshot())
                        .rfind(|s| *s != ProgressSnapshot::default())
                        .unwrap_or_default();
                    if pulling.load(Ordering::Relaxed) && s == ProgressSnapshot::default() {
                        // the pull's own status holds the line until the load begins
                        continue;
                    }
                    eprint!("\r\x1b[2K{}", loading_line(&s));
                    shown = true;
                }
                if shown || pulling.load(Ordering::Relaxed) {
                    eprint!("\r\x1b[2K");
                }
            })
        });
        StatusLine {
            progress,
            pulling,
            stop: Some(stop),
            ticker,
        }
    }

    /// What load `i` reports to.
    fn watch(&self, i: usize) -> Watch {
        #[cfg_attr(not(feature = "daemon"), allow(unused_mut))]
        let mut w = Watch::counting(self.progress[i].clone());
        #[cfg(feature = "daemon")]
        if self.ticker.is_some() {
            let pulling = self.pulling.clone();
            w.on_pull = Some(Arc::new(move |reference, status| {
                pulling.store(true, Ordering::Relaxed);
                eprint!("\r\x1b[2K{}", pull_line(reference, status));
            }));
        }
        w
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

/// The status line while loading.
fn loading_line(s: &ProgressSnapshot) -> String {
    let total = if s.bytes_total > 0 {
        format!(" / {}", crate::units::human_bytes(s.bytes_total))
    } else {
        String::new()
    };
    if s.layers_total == 0 && s.bytes_read == 0 && s.bytes_total > 0 {
        // Docker 20.10 writes the whole export to its own disk before sending a byte
        format!(
            "loading: waiting for the daemon to export {}",
            crate::units::human_bytes(s.bytes_total)
        )
    } else if s.layers_total == 0 {
        // a daemon's stream: bytes received is all there is to show until the end
        format!(
            "loading: {}{}",
            crate::units::human_bytes(s.bytes_read),
            total
        )
    } else {
        format!(
            "loading: layer {}/{}, {}{}",
            s.layers_done,
            s.layers_total,
            crate::units::human_bytes(s.bytes_read),
            total
        )
    }
}

/// The status line while the daemon pulls `reference`.
#[cfg(feature = "daemon")]
fn pull_line(reference: &str, status: &pipeline::PullStatus) -> String {
    let id = status
        .id
        .as_deref()
        .map(|i| format!("{i}: "))
        .unwrap_or_default();
    let amount = match (status.current, status.total) {
        (Some(c), Some(t)) => {
            format!(
                " {} / {}",
                crate::units::human_bytes(c),
                crate::units::human_bytes(t)
            )
        }
        _ => String::new(),
    };
    format!("pulling {reference}: {id}{}{amount}", status.status)
}
