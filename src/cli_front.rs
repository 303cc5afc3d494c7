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
use crate::source::later::DigestsLater;
use crate::text_fit::{escape_controls, truncate};
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// Run the program; returns the exit status.
pub fn run() -> i32 {
    let cli = Cli::parse_from(crate::cli::subcommand_first(std::env::args_os()));
    match run_cli(cli) {
        Ok(code) => code,
        // the reader has all it wanted: end quietly, as `cat` does
        Err(e) if e.downcast_ref::<StdoutClosed>().is_some() => exit_codes::STDOUT_CLOSED,
        Err(e) => {
            // our errors already name their cause: print the chain only where it adds words
            say(&one_line(&e));
            exit_codes::ERROR
        }
    }
}

/// The longest line bathy writes on stderr: a message quoting a huge input stays readable.
const STDERR_LINE_MAX: usize = 2000;

/// One line on stderr, prefixed `bathy: `: control characters escaped (names, tags and daemon
/// messages come from untrusted input), cut to [`STDERR_LINE_MAX`]. A closed stderr is ignored:
/// there is nobody left to tell.
pub fn say(line: &str) {
    let line = truncate(&escape_controls(line), STDERR_LINE_MAX);
    let _ = writeln!(std::io::stderr().lock(), "bathy: {line}");
}

/// stdout was closed by its reader; [`run`] ends quietly on it.
#[derive(Debug)]
struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// An error writing stdout, as [`run`] reports it: a closed pipe is [`StdoutClosed`], anything
/// else names the output.
fn stdout_error(kind: std::io::ErrorKind, e: impl std::fmt::Display) -> anyhow::Error {
    if kind == std::io::ErrorKind::BrokenPipe {
        anyhow::Error::new(StdoutClosed)
    } else {
        anyhow::anyhow!("writing to stdout: {e}")
    }
}

/// Everything bathy writes on stdout (but the explorer's screen) goes through here.
fn print_out(text: &str) -> anyhow::Result<()> {
    print_bytes(text.as_bytes())
}

fn print_bytes(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| stdout_error(e.kind(), e))
}

/// The config file (`--config`, `BATHY_CONFIG` or the XDG default), its warnings said; its
/// explorer settings installed for this thread, its CI defaults handed to `--ci`.
fn apply_config_file(cli: &mut Cli) -> anyhow::Result<()> {
    let file = match crate::config_file::locate(cli.config.as_deref(), |k| std::env::var_os(k)) {
        Some((path, named)) => crate::config_file::load(&path, named)?,
        None => crate::config_file::ConfigFile::default(),
    };
    for w in &file.warnings {
        say(&format!("warning: {w}"));
    }
    cli.ci.defaults = file.ci;
    #[cfg(feature = "tui")]
    crate::tui::prefs::install(&file.explorer);
    Ok(())
}

fn run_cli(mut cli: Cli) -> anyhow::Result<i32> {
    use crate::cli::Command;
    // completions and the man page describe the flags: no setting changes them, and a broken
    // config file should not keep a user from reading the manual
    if !matches!(
        cli.command,
        Some(Command::Completions { .. } | Command::Man)
    ) {
        apply_config_file(&mut cli)?;
    }
    let config = LoadConfig::from_args(&cli.load);
    if let Some(cmd) = cli.command {
        return match cmd {
            crate::cli::Command::Compare {
                a,
                b,
                json,
                html,
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
                    Outputs {
                        json: json.as_deref(),
                        html: html.as_deref(),
                    },
                    ci.then_some(gate),
                    &config,
                    &cli.why,
                )
            }
            crate::cli::Command::Suggest(args) => run_suggest(&args, &config, &cli.why),
            crate::cli::Command::Cat { image, path, layer } => {
                run_cat(&image, &path, layer, &config)
            }
            crate::cli::Command::Diff {
                image,
                path,
                from,
                to,
            } => run_diff(&image, &path, from, to, &config),
            crate::cli::Command::Completions { shell } => {
                print_bytes(&crate::cli::completions(shell))?;
                Ok(exit_codes::OK)
            }
            crate::cli::Command::Man => {
                print_bytes(&crate::cli::man_page()?)?;
                Ok(exit_codes::OK)
            }
        };
    }
    let Some(target) = cli.image.clone() else {
        return Err(anyhow::anyhow!("no image given"));
    };
    let other_output = cli.json.is_some() || cli.html.is_some() || cli.no_tui;
    if cli
        .ci
        .enabled(std::env::var("CI").ok().as_deref(), other_output)
    {
        return run_ci(&cli, &config, &target);
    }
    #[cfg(feature = "tui")]
    if !other_output && std::io::stdout().is_terminal() {
        return crate::tui::run(&target, &config, &cli.why);
    }
    let a = load_analysed(&target, &config, &cli.why)?;
    write_report_files(&cli, &a)?;
    if cli.json.is_some() || cli.html.is_some() {
        return Ok(exit_codes::OK);
    }
    let width = text_width();
    print_out(&format!(
        "{}\n{}",
        report::text::render(&a.image, &a.analysis, width),
        report::text::render_why(&report::why::WhyView::new(&a.why), width)
    ))?;
    Ok(exit_codes::OK)
}

/// The text report's width: the terminal's, or `PIPE_WIDTH` when stdout is not one (or its
/// size is unknown).
fn text_width() -> usize {
    #[cfg(feature = "tui")]
    if std::io::stdout().is_terminal() {
        if let Ok((w, _)) = crossterm::terminal::size() {
            return w as usize;
        }
    }
    report::text::PIPE_WIDTH
}

/// The report files asked for with `--json` and `--html`, from one analysis.
fn write_report_files(cli: &Cli, a: &Analysed) -> anyhow::Result<()> {
    if let Some(path) = &cli.json {
        write_report_json(path, a)?;
    }
    if let Some(path) = &cli.html {
        write_output(
            path,
            &report::html::render_image(&a.image, &a.analysis, &a.why),
        )?;
    }
    Ok(())
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
    // the sha256 of a large uncompressed layer goes on while the analyses run, and is
    // checked before anything is reported
    let later = Arc::new(DigestsLater::default());
    let config = config.checking_digests_in(later.clone());
    let image = watched(|w| pipeline::load(target, &config, Keep::Contents, w))?;
    let analysed = pipeline::analyse(image, &why_opts);
    later.finish()?;
    print_notes(analysed.image.warnings.iter());
    Ok(analysed)
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
        say(n);
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
        say(&format!("warning: {w}"));
    }
    if let Some(p) = &settings.config_file {
        let line = format!("Using CI config: {}", p.display());
        let _ = writeln!(std::io::stderr(), "{}", escape_controls(&line));
    }
    let a = load_analysed(target, config, &cli.why)?;
    write_report_files(cli, &a)?;
    let baseline = match &cli.ci.baseline {
        Some(b) => {
            let image = load_image(b, &config.without_image_choice(), Keep::LayersOnly)?;
            // analysed for the summary's deltas
            let analysis = crate::analysis::Analysis::run(&image);
            Some(rules::Baseline::measured(&image, &analysis))
        }
        None => None,
    };
    let leftovers = rules::LeftoverSummary::of(
        &a.why.leftovers,
        &crate::analysis::fsview::FinalFs::new(&a.image, &a.analysis.merged),
        &settings.rules.ignore_paths,
    );
    let input = rules::CiInput {
        image: &a.image,
        analysis: &a.analysis,
        leftovers: Some(&leftovers),
        findings: Some(&a.why.findings),
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
        report::ci::CiFiles {
            report: cli.ci.ci_report.as_deref(),
            summary: cli.ci.summary.as_deref(),
        },
        (&evaluation, &report::ci::Highlights::of(&a.why)),
        &cwd,
        target,
        color,
    );
    if let Some((path, text)) = &out.report_file {
        write_output(path, text)?;
    }
    write_output(Path::new("-"), out.stdout.trim_end())?;
    if let Some((path, text)) = &out.summary_file {
        append_output(path, text)?;
    }
    Ok(if evaluation.pass {
        exit_codes::OK
    } else {
        exit_codes::RULE_FAILED
    })
}

/// `bathy compare A B`: load both (shared layers read once), analyse, diff, report or gate.
/// Files a compare writes besides its text on stdout.
struct Outputs<'a> {
    json: Option<&'a Path>,
    html: Option<&'a Path>,
}

fn run_compare(
    a: &str,
    b: &str,
    out: Outputs,
    gate: Option<crate::analysis::ci_rules::CiThresholds>,
    config: &LoadConfig,
    why: &WhyArgs,
) -> anyhow::Result<i32> {
    let why_opts = pipeline::compare_why_options(why)?;
    let Outputs { json, html } = out;
    // on a terminal, the compare view (the text report on a pipe, with --json, --ci or CI=true)
    #[cfg(feature = "tui")]
    if gate.is_none()
        && json.is_none()
        && html.is_none()
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
    if let Some(path) = html {
        write_output(path, &report::html::render_compare(&c))?;
    }
    if let Some(e) = &pair.evaluation {
        // with --json - the JSON is the output; the evaluation goes to stderr
        let text = report::ci::compare_text(&c, e);
        if json.is_some_and(|p| p.as_os_str() == "-") {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        } else {
            print_out(&text)?;
        }
        return Ok(if !e.pass {
            exit_codes::RULE_FAILED
        } else {
            exit_codes::OK
        });
    }
    if json.is_none() && html.is_none() {
        print_out(&report::compare_text::render(&c))?;
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
        return print_out(&format!("{text}\n"));
    }
    std::fs::write(path, format!("{text}\n")).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(())
}

/// Append to FILE (created if missing), or write to stdout for `-`: GitHub's step summary file
/// is shared by every command of a step, so it is appended to, never replaced.
fn append_output(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        return print_out(text);
    }
    let named = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(named)?;
    f.write_all(text.as_bytes()).map_err(named)?;
    Ok(())
}

/// Stream JSON to FILE, or stdout for `-`.
pub fn write_json(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> serde_json::Result<()>,
) -> anyhow::Result<()> {
    let named = |e: std::io::Error| -> anyhow::Error {
        Error::Io {
            path: path.to_path_buf(),
            source: e,
        }
        .into()
    };
    // a write error inside serde is an I/O error of the output (the documents themselves
    // always serialise)
    let serde_io = |e: serde_json::Error| {
        let kind = e.io_error_kind().unwrap_or(std::io::ErrorKind::Other);
        std::io::Error::new(kind, e.to_string())
    };
    if path.as_os_str() == "-" {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        return f(&mut out)
            .map_err(serde_io)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .map_err(|e| stdout_error(e.kind(), e));
    }
    let file = std::fs::File::create(path).map_err(named)?;
    let mut out = std::io::BufWriter::new(file);
    f(&mut out)
        .map_err(serde_io)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(named)
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
                    let (s, downloads) = progress
                        .iter()
                        .map(|p| (p.snapshot(), p))
                        .rfind(|(s, _)| *s != ProgressSnapshot::default())
                        .map(|(s, p)| (s, p.downloads()))
                        .unwrap_or_default();
                    if pulling.load(Ordering::Relaxed) && s == ProgressSnapshot::default() {
                        // the pull's own status holds the line until the load begins
                        continue;
                    }
                    let line = loading_line(&s, &downloads);
                    eprint!("\r\x1b[2K{}", truncate(&line, stderr_width()));
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

/// Columns of the terminal on stderr, less one so the line never wraps (a wrapped line is
/// not cleared by the next one).
fn stderr_width() -> usize {
    #[cfg(feature = "tui")]
    if let Ok((w, _)) = crossterm::terminal::size() {
        if w > 0 {
            return (w as usize - 1).max(20);
        }
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c > 1)
        .map_or(79, |c| c - 1)
}

/// The status line while loading; a registry's downloads under way each with their bytes.
fn loading_line(s: &ProgressSnapshot, downloads: &[crate::progress::DownloadSnapshot]) -> String {
    let (under_way, more) = crate::progress::downloads_under_way(downloads, 4);
    let mut line = loading_totals(s);
    for d in under_way {
        line += " · ";
        line += &d.line();
    }
    if more > 0 {
        line += &format!(" · {more} more");
    }
    line
}

/// The status line's totals: layers, bytes read.
fn loading_totals(s: &ProgressSnapshot) -> String {
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
    let line = format!("pulling {reference}: {id}{}{amount}", status.status);
    // the daemon's words on a terminal: escaped, and cut so they stay one line
    truncate(&escape_controls(&line), 200)
}

/// `bathy cat`: the file's bytes as they are, or escaped when stdout is a terminal (contents
/// never reach a terminal raw).
fn run_cat(
    target: &str,
    path: &str,
    layer: Option<usize>,
    config: &LoadConfig,
) -> anyhow::Result<i32> {
    let files = watched(|w| crate::contents::open(target, config, w))?;
    print_notes(files.image.warnings.iter());
    let layer = layer.unwrap_or(files.top());
    let (node, v) = files.visible(path, layer)?;
    let mut r = activity_line(&files.activity, || files.read(node, &v))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if out.is_terminal() {
        let mut buf = vec![0u8; 64 * 1024];
        let mut carry = Vec::new();
        loop {
            let n = std::io::Read::read(&mut r, &mut buf)?;
            if n == 0 {
                break;
            }
            carry.extend_from_slice(&buf[..n]);
            // keep an incomplete UTF-8 sequence at the end for the next read
            let keep = incomplete_utf8_tail(&carry);
            let cut = carry.len() - keep;
            out.write_all(crate::contents::escape_text(&carry[..cut]).as_bytes())?;
            carry.drain(..cut);
        }
        out.write_all(crate::contents::escape_text(&carry).as_bytes())?;
    } else {
        std::io::copy(&mut r, &mut out)?;
    }
    out.flush()?;
    Ok(exit_codes::OK)
}

/// Run `f` with, on a terminal, a progress line on stderr of the slow work it reports into
/// `activity` (a layer fetched again from its registry, an image exported from its daemon, a
/// layer decoded from its start); stdout carries the file's bytes, untouched.
fn activity_line<T>(activity: &Arc<crate::source::refetch::Activity>, f: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return f();
    }
    let (stop, stopped) = mpsc::channel::<()>();
    let ticker = {
        let activity = activity.clone();
        std::thread::spawn(move || {
            let mut shown = false;
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(std::time::Duration::from_millis(150))
            {
                match activity.line() {
                    Some(l) => {
                        let l = escape_controls(&l);
                        eprint!("\r\x1b[2K{}", truncate(&l, stderr_width()));
                        shown = true;
                    }
                    None if shown => {
                        eprint!("\r\x1b[2K");
                        shown = false;
                    }
                    None => {}
                }
            }
            if shown {
                eprint!("\r\x1b[2K");
            }
        })
    };
    let out = f();
    drop(stop);
    let _ = ticker.join();
    out
}

/// How many bytes at the end of `b` start a UTF-8 sequence that is not complete yet.
fn incomplete_utf8_tail(b: &[u8]) -> usize {
    for k in 1..=3.min(b.len()) {
        let c = b[b.len() - k];
        if c & 0xc0 != 0x80 {
            let need = match c {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => 1,
            };
            return if need > k { k } else { 0 };
        }
    }
    0
}

/// `bathy diff`: a unified diff of the path's versions visible at two layers; exit 0 either way.
fn run_diff(
    target: &str,
    path: &str,
    from: Option<usize>,
    to: Option<usize>,
    config: &LoadConfig,
) -> anyhow::Result<i32> {
    let files = watched(|w| crate::contents::open(target, config, w))?;
    print_notes(files.image.warnings.iter());
    let top = files.top();
    let node = files.node_for_diff(path, to.unwrap_or(top))?;
    let versions = files.versions(node);
    let (from_i, to_i) = crate::contents::diff_pair(&versions, from, to);
    let old = from_i.and_then(|i| versions.get(i));
    let new = versions.get(to_i);
    let label = crate::contents::version_label;
    let shown = files.image.paths.path(node);
    let text = activity_line(&files.activity, || files.diff(node, old, new))?;
    if text.is_empty() {
        eprintln!(
            "bathy: {}: {} and {} are the same",
            crate::contents::escape_text(shown.as_bytes()),
            label(old),
            label(new)
        );
    }
    print!("{text}");
    Ok(exit_codes::OK)
}

/// `bathy suggest`: the multi-stage Dockerfile (or the sentence saying there is none), and with
/// `--verify` the daemon's build of it checked against the original.
fn run_suggest(
    args: &crate::cli::SuggestArgs,
    config: &LoadConfig,
    why: &WhyArgs,
) -> anyhow::Result<i32> {
    use crate::analysis::suggest::{self, OriginalDockerfile, Suggestion};
    // the Dockerfile first: a bad one should not cost an image load
    let dockerfile = match &args.dockerfile {
        Some(p) => {
            let text = crate::small_file::read_capped_text(p, crate::small_file::MAX_TEXT)?;
            let df =
                OriginalDockerfile::parse(text, &p.display().to_string()).map_err(Error::Usage)?;
            if let Some(t) = &args.target {
                df.parsed.chain(Some(t))?;
            }
            Some(df)
        }
        None => None,
    };
    let rules_only = WhyArgs {
        rules: why.rules.clone(),
        ..Default::default()
    };
    let a = load_analysed(&args.image, config, &rules_only)?;
    let opts = suggest::SuggestOptions {
        dockerfile,
        target: args.target.clone(),
        runtime_base: args.runtime_base.clone(),
    };
    let plan = match suggest::suggest(&a.image, &a.analysis.merged, &a.why, &opts) {
        Suggestion::Nothing(sentence) => {
            print_out(&format!("{}\n", escape_controls(&sentence)))?;
            return Ok(exit_codes::OK);
        }
        Suggestion::Rewrite(plan) => plan,
    };
    let text = report::dockerfile_writer::render(&plan);
    match &args.output {
        Some(p) => write_output(p, text.trim_end())?,
        None if args.verify => {}
        None => print_out(&text)?,
    }
    if !args.verify {
        return Ok(exit_codes::OK);
    }
    run_verify(args, config, &a, &plan, &text)
}

/// `--verify`: build the suggestion, compare it with the original, smoke-test both, and say
/// the verdict in one line (exit 0 it holds, 1 a step failed).
#[cfg(feature = "daemon")]
fn run_verify(
    args: &crate::cli::SuggestArgs,
    config: &LoadConfig,
    a: &Analysed,
    plan: &crate::analysis::suggest::Plan,
    text: &str,
) -> anyhow::Result<i32> {
    use crate::verify::{self, Smoke};
    let original = match config.target(&args.image)? {
        crate::source::reference::Target::Daemon { reference, .. } => reference,
        _ => {
            return Err(Error::Usage(format!(
            "{}: --verify runs the original image, so give it as a name the Docker daemon knows",
            args.image
        ))
            .into())
        }
    };
    let context = match (&args.context, &args.dockerfile) {
        (Some(c), _) => c.clone(),
        (None, Some(d)) => d
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ".".into()),
        (None, None) => {
            return Err(Error::Usage(
                "--verify needs a build context: --context DIR (or --dockerfile, whose directory is the default)".into(),
            )
            .into())
        }
    };
    let smoke = match (&args.smoke, args.smoke_alive) {
        (Some(s), _) => Smoke::Run(verify::smoke_words(s)),
        (None, Some(secs)) => Smoke::Alive(secs),
        _ => Smoke::None,
    };
    let tag = suggestion_tag(&a.image, &original);
    let req = verify::Request {
        original: &original,
        plan,
        dockerfile: text,
        context: &context,
        tag: &tag,
        smoke,
    };
    let verdict = watched(|w| verify::verify(&req, config, w))?;
    let mut out = String::new();
    for d in &verdict.details {
        out.push_str(&format!("  {}\n", escape_controls(d)));
    }
    out.push_str(&format!(
        "{} (built as {tag})\n",
        escape_controls(&verdict.line)
    ));
    print_out(&out)?;
    Ok(if verdict.holds {
        exit_codes::OK
    } else {
        exit_codes::RULE_FAILED
    })
}

#[cfg(not(feature = "daemon"))]
fn run_verify(
    _: &crate::cli::SuggestArgs,
    _: &LoadConfig,
    _: &Analysed,
    _: &crate::analysis::suggest::Plan,
    _: &str,
) -> anyhow::Result<i32> {
    Err(Error::Usage("--verify: this build cannot reach a daemon".into()).into())
}

/// The tag the suggestion is built as: `<repository>-suggested:latest` for a named original.
#[cfg(feature = "daemon")]
fn suggestion_tag(image: &Image, original: &str) -> String {
    let name = image.tags.first().map(String::as_str).unwrap_or(original);
    let repo = name.split('@').next().unwrap_or(name);
    let repo = match repo.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => r,
        _ => repo,
    };
    let repo: String = repo
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-/".contains(*c))
        .collect();
    format!(
        "{}-suggested:latest",
        repo.trim_matches(|c| c == '/' || c == '.')
    )
}
