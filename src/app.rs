//! The binary's work: parse arguments, load, analyse, and hand the result to a front end.
//! Errors end here as one line on stderr and exit status 2.

use crate::analysis::compare;
use crate::analysis::why::{WhyOptions, WhyReport};
use crate::analysis::Analysis;
use crate::cli::{Cli, LoadArgs, WhyArgs};
use crate::error::Error;
use crate::exit_codes;
use crate::image::Image;
use crate::progress::Progress;
use crate::report;
use crate::source::reference::Target;
use crate::source::{self, LoadOptions, Selection};
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

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
                    &cli.load,
                    &cli.why,
                )
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
        return run_ci(&cli, &target);
    }
    #[cfg(feature = "tui")]
    if !other_output && std::io::stdout().is_terminal() {
        return crate::tui::run(&target, &cli.load, &cli.why);
    }
    let why_opts = why_options(&cli.why, &cli.load)?;
    let image = load_image(&target, &cli.load)?;
    let analysis = Analysis::run(&image);
    let why = WhyReport::run(&image, &analysis, &why_opts);
    if let Some(path) = &cli.html {
        write_output(path, &report::html::render_image(&image, &analysis, &why))?;
    }
    if let Some(path) = &cli.json {
        write_report_json(path, &image, &analysis, &why)?;
    }
    if cli.json.is_some() || cli.html.is_some() {
        return Ok(exit_codes::OK);
    }
    print!("{}", report::text::render(&image, &analysis));
    println!();
    print!("{}", why.render_text(&image));
    Ok(exit_codes::OK)
}

/// The JSON report: dive's export, our keys, and the why-analysis sections.
fn write_report_json(
    path: &Path,
    image: &Image,
    analysis: &Analysis,
    why: &WhyReport,
) -> anyhow::Result<()> {
    let mut bathy = report::json::bathy_report(image, analysis);
    bathy.extra.extend(why.json_sections());
    write_json(path, |w| {
        report::json::write_export(image, analysis, &bathy, w)
    })
}

/// `--rules`, `--dockerfile`, `--target` and `--base` (loaded here: only its diff_ids are kept).
pub fn why_options(args: &WhyArgs, load: &LoadArgs) -> anyhow::Result<WhyOptions> {
    why_options_with(args, |base| load_image_layers(base, load))
}

/// [`why_options`] loading the base image with `load_base` (the explorer's loads quietly: its
/// screen is the terminal).
pub fn why_options_with(
    args: &WhyArgs,
    load_base: impl FnOnce(&str) -> anyhow::Result<Image>,
) -> anyhow::Result<WhyOptions> {
    let mut o = WhyOptions::from_files(
        args.rules.as_deref(),
        args.dockerfile.as_deref(),
        args.target.clone(),
    )?;
    if let Some(base) = &args.base {
        let b = load_base(base)?;
        o.stages.base_diff_ids = Some(b.layers.iter().map(|l| l.diff_id.clone()).collect());
        o.stages.base_name = Some(b.display_name());
    }
    Ok(o)
}

/// `--ci`: evaluate the rules, write the evaluation, and exit 0 (all pass) or 1 (one failed).
fn run_ci(cli: &Cli, target: &str) -> anyhow::Result<i32> {
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
    let why_opts = why_options(&cli.why, &cli.load)?;
    let image = load_image(target, &cli.load)?;
    let analysis = Analysis::run(&image);
    let why = WhyReport::run(&image, &analysis, &why_opts);
    if let Some(path) = &cli.json {
        write_report_json(path, &image, &analysis, &why)?;
    }
    if let Some(path) = &cli.html {
        write_output(path, &report::html::render_image(&image, &analysis, &why))?;
    }
    let baseline = match &cli.ci.baseline {
        // --image picks from the main archive only
        Some(b) => Some(rules::Baseline::of(&load_image_layers(
            b,
            &LoadArgs {
                select_image: None,
                ..cli.load.clone()
            },
        )?)),
        None => None,
    };
    let leftovers = why.leftover_summary();
    let input = rules::CiInput {
        image: &image,
        analysis: &analysis,
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
    load: &LoadArgs,
    why: &WhyArgs,
) -> anyhow::Result<i32> {
    // only the leftovers and packages are compared: stage options (--dockerfile, --base) would
    // cost work without changing the output, so only --rules is read
    let why_opts = WhyOptions::from_files(why.rules.as_deref(), None, None)?;
    let Outputs { json, html } = out;
    // on a terminal, the compare view (the text report on a pipe, with --json, --ci or CI=true)
    #[cfg(feature = "tui")]
    if gate.is_none()
        && json.is_none()
        && html.is_none()
        && std::io::stdout().is_terminal()
        && !std::env::var("CI").is_ok_and(|v| crate::ci_config::truthy(&v))
    {
        return crate::tui::run_compare(a, b, load, why_opts);
    }
    let cache = source::LayerCache::new();
    let ia = load_image_cached(a, load, Some(cache.clone()))?;
    let ib = load_image_cached(b, load, Some(cache))?;
    let analyse = |image: &Image| {
        let analysis = Analysis::run(image);
        let why = WhyReport::run(image, &analysis, &why_opts);
        (analysis, why)
    };
    let ((aa, wa), (ab, wb)) = rayon::join(|| analyse(&ia), || analyse(&ib));
    let c = compare::compare(&compare_side(&ia, &aa, &wa), &compare_side(&ib, &ab, &wb));
    let evaluation = gate
        .as_ref()
        .map(|g| crate::analysis::ci_rules::evaluate_comparison(g, &ia, &ib, &ab, &c));
    if let Some(path) = json {
        let doc = report::compare_json::build(&c, evaluation.as_ref());
        write_json(path, |w| serde_json::to_writer_pretty(w, &doc))?;
    }
    if let Some(path) = html {
        write_output(path, &report::html::render_compare(&c))?;
    }
    if let Some(e) = &evaluation {
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
    if json.is_none() && html.is_none() {
        print!("{}", report::compare_text::render(&c));
    }
    Ok(exit_codes::OK)
}

/// One side of a comparison with its leftover findings and installed packages.
pub fn compare_side<'a>(
    image: &'a Image,
    analysis: &'a Analysis,
    why: &WhyReport,
) -> compare::Side<'a> {
    let (leftovers, packages) = why.compare_items();
    compare::Side::new(image, analysis)
        .with_leftovers(leftovers)
        .with_packages(packages)
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

/// Load an image named on the command line, with a progress line on a terminal.
pub fn load_image(target: &str, args: &LoadArgs) -> anyhow::Result<Image> {
    load_image_with(target, args, None, true)
}

/// [`load_image`] for an image only its layers are wanted of (a `--base` or `--baseline`):
/// no file contents are captured for the why-analyses, so `--no-verify` stays header-only.
pub fn load_image_layers(target: &str, args: &LoadArgs) -> anyhow::Result<Image> {
    load_image_with(target, args, None, false)
}

/// [`load_image`], reusing (and filling) a cache of parsed layers shared with other loads.
pub fn load_image_cached(
    target: &str,
    args: &LoadArgs,
    cache: Option<source::LayerCache>,
) -> anyhow::Result<Image> {
    load_image_with(target, args, cache, true)
}

fn load_image_with(
    target: &str,
    args: &LoadArgs,
    cache: Option<source::LayerCache>,
    capture: bool,
) -> anyhow::Result<Image> {
    if args.pull {
        pull_first(&Target::parse(target, args.source.as_deref())?, args)?;
    }
    // pulled already, with its own progress line
    let args = &LoadArgs {
        pull: false,
        ..args.clone()
    };
    let progress = Arc::new(Progress::new());
    let opts = LoadOptions {
        verify: !args.no_verify,
        selection: Selection {
            image: args.select_image.clone(),
            platform: args.platform.clone(),
        },
        progress: Some(progress.clone()),
        cache,
        capture: capture.then(crate::analysis::capture::why_capture),
    };
    let show = std::io::stderr().is_terminal();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = show.then(|| {
        let progress = progress.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut shown = false;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(150));
                let s = progress.snapshot();
                let total = if s.bytes_total > 0 {
                    format!(" / {}", crate::units::human_bytes(s.bytes_total))
                } else {
                    String::new()
                };
                if s.layers_total == 0 && s.bytes_read == 0 && s.bytes_total > 0 {
                    // Docker 20.10 writes the whole export to its own disk before sending a byte
                    eprint!(
                        "\r\x1b[2Kloading: waiting for the daemon to export {}",
                        crate::units::human_bytes(s.bytes_total)
                    );
                } else if s.layers_total == 0 {
                    // a daemon's stream: bytes received is all there is to show until the end
                    eprint!(
                        "\r\x1b[2Kloading: {}{}",
                        crate::units::human_bytes(s.bytes_read),
                        total
                    );
                } else {
                    eprint!(
                        "\r\x1b[2Kloading: layer {}/{}, {}{}",
                        s.layers_done,
                        s.layers_total,
                        crate::units::human_bytes(s.bytes_read),
                        total
                    );
                }
                shown = true;
            }
            if shown {
                eprint!("\r\x1b[2K");
            }
        })
    });
    let result = resolve_and_load(target, args, &opts);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = ticker {
        let _ = t.join();
    }
    let image = result?;
    // the loader's notes (the TUI shows them in its status line instead)
    for n in &image.warnings {
        eprintln!("bathy: {n}");
    }
    Ok(image)
}

/// Read `target` (a path, a `scheme://` reference or a daemon image name) as `args` say; with
/// `--pull`, have the daemon pull it first (silently: front ends that want the pull's progress
/// call [`pull_first`] themselves).
pub fn resolve_and_load(target: &str, args: &LoadArgs, opts: &LoadOptions) -> crate::Result<Image> {
    match Target::parse(target, args.source.as_deref())? {
        Target::Path(p) => source::load_path(&p, opts),
        #[cfg(feature = "daemon")]
        Target::Daemon { engine, reference } => {
            if args.pull {
                source::daemon::pull(engine, &reference, args.platform.as_deref(), |_| {})?;
            }
            source::daemon::load(engine, &reference, opts)
        }
        #[cfg(not(feature = "daemon"))]
        Target::Daemon { reference, .. } => Err(Error::Usage(format!(
            "{reference}: this build cannot read from a daemon"
        ))),
    }
}

/// `--pull`: have the daemon pull the image first, with its status on one line of a terminal.
pub fn pull_first(target: &Target, args: &LoadArgs) -> crate::Result<()> {
    let Target::Daemon { engine, reference } = target else {
        return Err(Error::Usage(
            "--pull needs an image in a daemon, not a file".into(),
        ));
    };
    #[cfg(feature = "daemon")]
    {
        let show = std::io::stderr().is_terminal();
        let result = source::daemon::pull(*engine, reference, args.platform.as_deref(), |status| {
            if show {
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
                eprint!(
                    "\r\x1b[2Kpulling {reference}: {id}{}{amount}",
                    status.status
                );
            }
        });
        if show {
            eprint!("\r\x1b[2K");
        }
        result
    }
    #[cfg(not(feature = "daemon"))]
    {
        let _ = (engine, args);
        Err(Error::Usage(format!(
            "{reference}: this build cannot read from a daemon"
        )))
    }
}
