//! `bathy suggest --verify`: build the suggested Dockerfile with the daemon, compare the result
//! with the original through the same code as `bathy compare`, and smoke-test both images in
//! containers without network. One verdict: it holds, or which step failed.

use crate::analysis::suggest::Plan;
use crate::analysis::why::WhyOptions;
use crate::error::{Error, Result};
use crate::pipeline::{self, LoadConfig, Watch};
use crate::source::daemon::Connection;
use crate::source::reference::Engine;
use crate::units::human_bytes;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    BuildImageOptions, KillContainerOptions, LogsOptions, RemoveContainerOptions,
};
use futures_util::StreamExt;
use std::path::Path;
use std::time::Duration;

/// How long a `--smoke` run may take before it counts as hung.
pub const SMOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// The name the suggested Dockerfile has inside the build context sent to the daemon.
const DOCKERFILE_NAME: &str = ".bathy-suggest.Dockerfile";
/// Output lines of a failed build quoted in the verdict.
const BUILD_TAIL_LINES: usize = 3;
/// The build context is read into memory; past this it is refused rather than exhausting it.
const MAX_CONTEXT_BYTES: u64 = 2 << 30;

/// The smoke test to run in both images.
#[derive(Clone, Debug, PartialEq)]
pub enum Smoke {
    None,
    /// `--smoke ARGS`: the entrypoint with these arguments, exit code and output compared.
    Run(Vec<String>),
    /// `--smoke-alive SECONDS`: still running after that long.
    Alive(u64),
}

/// What to verify.
pub struct Request<'a> {
    /// The original image, as a name the daemon knows.
    pub original: &'a str,
    pub plan: &'a Plan,
    pub dockerfile: &'a str,
    pub context: &'a Path,
    /// The tag the suggestion is built as.
    pub tag: &'a str,
    pub smoke: Smoke,
}

/// The verdict: its one line, and whether the suggestion holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub holds: bool,
    pub line: String,
    /// What was checked on the way, one line each.
    pub details: Vec<String>,
}

/// Build, compare and smoke-test; `Err` only for errors (no daemon, unreadable context), a
/// failed build or check is a verdict that does not hold.
pub fn verify(req: &Request, config: &LoadConfig, watch: &Watch) -> Result<Verdict> {
    let conn = Connection::open(Engine::Docker)?;
    // a build step may compile for minutes without a line of output: the idle limit that
    // guards reading an image would cut it
    conn.set_idle_timeout(std::time::Duration::from_secs(30 * 60));
    let context = context_tar(req.context, req.dockerfile)?;
    if let Err(why) = build(&conn, context, req.tag) {
        return Ok(fails(
            format!("the suggestion does not build: {why}"),
            Vec::new(),
        ));
    }
    let original = format!("docker://{}", req.original);
    let built = format!("docker://{}", req.tag);
    let why = WhyOptions::default();
    let pair = pipeline::compare_images(&original, &built, config, &why, None, [watch, watch])?;
    let h = &pair.comparison.headline;
    let mut details = vec![format!(
        "compared: {} in {} layers → {} in {} layers",
        human_bytes(h.a.size_bytes),
        h.a.layers,
        human_bytes(h.b.size_bytes),
        h.b.layers
    )];
    let program = &req.plan.program;
    if let Some(c) = pair.comparison.files.change(program) {
        match &c.b {
            None => {
                return Ok(fails(
                    format!("the suggestion builds, but {program} is missing from it"),
                    details,
                ))
            }
            Some(_) => details.push(format!(
                "{program} differs from the original's ({}): the build was not reproduced byte for byte",
                c.changed.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    } else {
        details.push(format!("{program} is present with the same bytes"));
    }
    let smoke = match &req.smoke {
        Smoke::None => "no smoke test (--smoke or --smoke-alive runs one)".to_string(),
        s => match smoke_both(&conn, req.original, req.tag, s)? {
            Ok(passed) => passed,
            Err(failed) => {
                return Ok(fails(
                    format!("the suggestion builds, but the smoke test fails: {failed}"),
                    details,
                ))
            }
        },
    };
    let pct = if h.a.size_bytes > 0 {
        format!(
            " (−{:.1} %)",
            100.0 - h.b.size_bytes as f64 * 100.0 / h.a.size_bytes as f64
        )
    } else {
        String::new()
    };
    Ok(Verdict {
        holds: true,
        line: format!(
            "suggestion builds, {smoke}, {} → {}{pct}",
            human_bytes(h.a.size_bytes),
            human_bytes(h.b.size_bytes)
        ),
        details,
    })
}

fn fails(line: String, details: Vec<String>) -> Verdict {
    Verdict {
        holds: false,
        line,
        details,
    }
}

/// The build context as a tar, the suggested Dockerfile added under [`DOCKERFILE_NAME`].
/// Symlinks go in as symlinks; other special files are left out (the daemon's own context
/// upload does the same).
fn context_tar(dir: &Path, dockerfile: &str) -> Result<Vec<u8>> {
    let io = |path: &Path, e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let meta = std::fs::metadata(dir).map_err(|e| io(dir, e))?;
    if !meta.is_dir() {
        return Err(Error::Usage(format!(
            "{}: the build context is not a directory",
            dir.display()
        )));
    }
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
            let e = e.map_err(|e| io(&d, e))?;
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap_or(&p);
            let ft = e.file_type().map_err(|e| io(&p, e))?;
            if ft.is_dir() {
                b.append_dir(rel, &p).map_err(|e| io(&p, e))?;
                stack.push(p);
            } else if ft.is_file() || ft.is_symlink() {
                total += e.metadata().map(|m| m.len()).unwrap_or(0);
                if total > MAX_CONTEXT_BYTES {
                    return Err(Error::Usage(format!(
                        "{}: the build context is over {} (give a smaller one with --context)",
                        dir.display(),
                        human_bytes(MAX_CONTEXT_BYTES)
                    )));
                }
                b.append_path_with_name(&p, rel).map_err(|e| io(&p, e))?;
            }
        }
    }
    let mut h = tar::Header::new_gnu();
    h.set_size(dockerfile.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, DOCKERFILE_NAME, dockerfile.as_bytes())
        .map_err(|e| io(dir, e))?;
    b.into_inner().map_err(|e| io(dir, e))
}

/// Build the context as `tag` with the classic builder (host network, so RUN steps reach
/// package mirrors as `docker build --network host` would); `Err` is the build's failure, in
/// words, with the last lines it printed.
fn build(conn: &Connection, context: Vec<u8>, tag: &str) -> std::result::Result<(), String> {
    let opts = BuildImageOptions {
        dockerfile: DOCKERFILE_NAME.into(),
        t: Some(tag.into()),
        rm: true,
        forcerm: true,
        networkmode: Some("host".into()),
        ..Default::default()
    };
    conn.block_on(async {
        let mut tail: Vec<String> = Vec::new();
        let mut stream =
            conn.docker
                .build_image(opts, None, Some(bollard::body_full(context.into())));
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(i) => i,
                Err(e) => {
                    let why = conn.request_failed("the build", e).to_string();
                    return Err(with_tail(&one_line(&why), &tail));
                }
            };
            if let Some(msg) = info.error_detail.and_then(|d| d.message) {
                return Err(with_tail(&one_line(&msg), &tail));
            }
            if let Some(s) = info.stream {
                tail.extend(s.lines().filter(|l| !l.trim().is_empty()).map(one_line));
                let keep = tail.len().saturating_sub(BUILD_TAIL_LINES);
                tail.drain(..keep);
            }
        }
        Ok(())
    })
}

fn with_tail(msg: &str, tail: &[String]) -> String {
    if tail.is_empty() {
        return msg.to_string();
    }
    format!("{msg} (after: {})", tail.join(" | "))
}

fn one_line(s: &str) -> String {
    crate::text_fit::truncate(&crate::text_fit::escape_controls(s.trim()), 300)
}

/// One image's smoke run.
#[derive(Clone, Debug, PartialEq)]
struct Run {
    exit: Option<i64>,
    output: Vec<u8>,
    alive: bool,
}

/// The smoke test in the original, then in the suggestion: `Ok(Ok(words))` passes,
/// `Ok(Err(why))` fails.
fn smoke_both(
    conn: &Connection,
    original: &str,
    built: &str,
    smoke: &Smoke,
) -> Result<std::result::Result<String, String>> {
    let a = smoke_run(conn, original, smoke)?;
    let b = smoke_run(conn, built, smoke)?;
    Ok(match smoke {
        Smoke::Alive(secs) => match (a.alive, b.alive) {
            (true, true) => Ok(format!(
                "smoke test passes in both (still running after {secs} s)"
            )),
            (false, _) => Err(format!(
                "the original itself is not running after {secs} s (exit {}): {}",
                exit_word(a.exit),
                output_words(&a.output)
            )),
            (true, false) => Err(format!(
                "the suggestion stopped within {secs} s (exit {}) while the original runs: {}",
                exit_word(b.exit),
                output_words(&b.output)
            )),
        },
        _ if a.exit.is_none() || b.exit.is_none() => Err(format!(
            "it did not end within {} s in the {}",
            SMOKE_TIMEOUT.as_secs(),
            if a.exit.is_none() {
                "original"
            } else {
                "suggestion"
            }
        )),
        _ if a.exit != b.exit => Err(format!(
            "exit {} in the original, {} in the suggestion: {}",
            exit_word(a.exit),
            exit_word(b.exit),
            output_words(&b.output)
        )),
        _ if a.output != b.output => Err(format!(
            "same exit {}, different output: {} ≠ {}",
            exit_word(a.exit),
            output_words(&a.output),
            output_words(&b.output)
        )),
        _ => Ok(format!(
            "smoke test passes in both (exit {}, same output)",
            exit_word(a.exit)
        )),
    })
}

fn exit_word(e: Option<i64>) -> String {
    e.map(|c| c.to_string()).unwrap_or_else(|| "none".into())
}

fn output_words(out: &[u8]) -> String {
    if out.is_empty() {
        return "no output".into();
    }
    format!("\"{}\"", one_line(&String::from_utf8_lossy(out)))
}

/// Run the smoke test in `image`: a container without network, removed afterwards.
fn smoke_run(conn: &Connection, image: &str, smoke: &Smoke) -> Result<Run> {
    let cmd = match smoke {
        Smoke::Run(args) => Some(smoke_command(conn, image, args)?),
        _ => None,
    };
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd,
        network_disabled: Some(true),
        host_config: Some(HostConfig {
            network_mode: Some("none".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let daemon_err = |e: bollard::errors::Error| {
        Error::Daemon(format!("{image}: smoke test: {}", one_line(&e.to_string())))
    };
    let id = conn
        .block_on(conn.docker.create_container(None, body))
        .map_err(daemon_err)?
        .id;
    let run = conn.block_on(async {
        conn.docker.start_container(&id, None).await?;
        let (exit, alive) = match smoke {
            Smoke::Alive(secs) => {
                tokio::time::sleep(Duration::from_secs(*secs)).await;
                let state = conn.docker.inspect_container(&id, None).await?.state;
                let running = state.as_ref().and_then(|s| s.running).unwrap_or(false);
                (
                    state.and_then(|s| s.exit_code).filter(|_| !running),
                    running,
                )
            }
            _ => (wait_exit(conn, &id).await, false),
        };
        let mut output = Vec::new();
        let logs = LogsOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let mut stream = conn.docker.logs(&id, Some(logs));
        while let Some(chunk) = stream.next().await {
            output.extend_from_slice(chunk?.as_ref());
        }
        Ok::<Run, bollard::errors::Error>(Run {
            exit,
            output,
            alive,
        })
    });
    // a server still running, or a hung run: stop it before removing it
    let _ = conn.block_on(
        conn.docker
            .kill_container(&id, None::<KillContainerOptions>),
    );
    let _ = conn.block_on(conn.docker.remove_container(
        &id,
        Some(RemoveContainerOptions {
            force: true,
            ..Default::default()
        }),
    ));
    run.map_err(daemon_err)
}

/// The exit code of the container, or None when it runs past [`SMOKE_TIMEOUT`].
async fn wait_exit(conn: &Connection, id: &str) -> Option<i64> {
    let wait = async {
        let mut s = conn.docker.wait_container(id, None);
        match s.next().await {
            Some(Ok(r)) => Some(r.status_code),
            // bollard reports a non-zero exit as an error carrying the code
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Some(code),
            _ => None,
        }
    };
    tokio::time::timeout(SMOKE_TIMEOUT, wait)
        .await
        .ok()
        .flatten()
}

/// The command that runs the entrypoint with `args`: with an ENTRYPOINT the args replace CMD;
/// without one the program is CMD's first word, so it is kept before them.
fn smoke_command(conn: &Connection, image: &str, args: &[String]) -> Result<Vec<String>> {
    let inspect = conn
        .block_on(conn.docker.inspect_image(image))
        .map_err(|e| Error::Daemon(format!("{image}: {}", one_line(&e.to_string()))))?;
    let cfg = inspect.config.unwrap_or_default();
    if cfg.entrypoint.as_ref().is_some_and(|e| !e.is_empty()) {
        return Ok(args.to_vec());
    }
    let mut cmd: Vec<String> = cfg.cmd.unwrap_or_default().into_iter().take(1).collect();
    cmd.extend(args.iter().cloned());
    Ok(cmd)
}

/// `--smoke`'s words: split at spaces, a pair of single or double quotes keeping one word.
pub fn smoke_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if started || !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke_words_split_at_spaces_and_keep_quoted_words() {
        assert_eq!(smoke_words("--version"), vec!["--version"]);
        assert_eq!(
            smoke_words(" -e  'console.log(1 + 1)' \"\" x"),
            vec!["-e", "console.log(1 + 1)", "", "x"]
        );
        assert!(smoke_words("   ").is_empty());
    }
}
