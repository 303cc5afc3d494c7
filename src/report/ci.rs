//! The CI evaluation in every output format: readable text (optionally colored), JSON, JUnit
//! XML, SARIF 2.1.0, GitHub workflow commands and a Markdown summary for `bathy IMAGE --ci`,
//! and the text of `bathy compare A B --ci`. Formats only; the verdicts come from
//! `analysis::ci_rules`.

use crate::analysis::ci_rules::{CiRule, CiRuleResult, Evaluation, Gate, Measures, Status};
use crate::analysis::compare::Comparison;
use crate::analysis::findings::Finding;
use crate::analysis::leftovers::Leftover;
use crate::analysis::why::WhyReport;
use crate::ci_config::CiFormat;
use crate::report::compare_text::render_headline;
use crate::text_fit::escape_controls as esc;
use crate::units::{human_bytes, human_delta};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::{Path, PathBuf};

pub const TOOL_NAME: &str = "bathyscaphe";
/// Where each rule is explained (shipped with the sources).
pub const RULES_DOC: &str = "docs/ci.md";

/// The JSON report: the evaluation plus a tally, so consumers need not count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CiReport {
    pub tool: String,
    pub version: String,
    pub summary: Summary,
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
}

pub fn summary(e: &Evaluation) -> Summary {
    Summary {
        pass: e.count(Status::Pass),
        fail: e.count(Status::Fail),
        skip: e.count(Status::Skip),
    }
}

/// The evaluation in `format`; `color` only matters for text. `artifact` is the file SARIF
/// results point at; the highlights are what the Markdown summary lists besides the rules.
pub fn render(
    format: CiFormat,
    e: &Evaluation,
    h: &Highlights,
    color: bool,
    artifact: &str,
) -> String {
    match format {
        CiFormat::Text => text(e, color),
        CiFormat::Json => json(e),
        CiFormat::Junit => junit(e),
        CiFormat::Sarif => sarif(e, artifact),
        CiFormat::Github => github(e),
        CiFormat::Markdown => markdown(e, h),
    }
}

/// What `--ci` writes: the report file (with `--ci-report FILE`), the Markdown summary (with
/// `--summary FILE`) and stdout.
pub struct CiOutputs {
    pub report_file: Option<(PathBuf, String)>,
    pub summary_file: Option<(PathBuf, String)>,
    pub stdout: String,
}

/// The files `--ci` writes besides stdout.
#[derive(Clone, Copy, Default)]
pub struct CiFiles<'a> {
    /// `--ci-report FILE`: the chosen format.
    pub report: Option<&'a Path>,
    /// `--summary FILE`: the Markdown summary.
    pub summary: Option<&'a Path>,
}

/// Render the evaluation for `--ci-format`/`--ci-report`: the chosen format goes to the file,
/// and the (possibly colored) text evaluation to stdout so logs stay readable; without a file
/// (or with `-`) the chosen format goes to stdout. SARIF results point at `Dockerfile` when
/// `cwd` has one, else at `target`.
pub fn render_outputs(
    format: Option<CiFormat>,
    files: CiFiles,
    (e, h): (&Evaluation, &Highlights),
    cwd: &Path,
    target: &str,
    color: bool,
) -> CiOutputs {
    let format = format.unwrap_or_default();
    let artifact = if cwd.join("Dockerfile").is_file() {
        "Dockerfile"
    } else {
        target
    };
    let summary_file = files.summary.map(|p| (p.to_path_buf(), markdown(e, h)));
    match files.report {
        Some(path) if path.as_os_str() != "-" => CiOutputs {
            report_file: Some((path.to_path_buf(), render(format, e, h, false, artifact))),
            summary_file,
            stdout: render(CiFormat::Text, e, h, color, artifact),
        },
        _ => CiOutputs {
            report_file: None,
            summary_file,
            stdout: render(format, e, h, color, artifact),
        },
    }
}

pub fn json(e: &Evaluation) -> String {
    let report = CiReport {
        tool: TOOL_NAME.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        summary: summary(e),
        evaluation: e.clone(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// ANSI styles, or nothing.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn status(&self, st: Status) -> String {
        // pad before painting so escapes do not upset the columns
        let label = format!("{:<4}", st.label());
        match st {
            Status::Pass => self.paint("32", &label),
            Status::Fail => self.paint("1;31", &label),
            Status::Skip => self.paint("2", &label),
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
}

fn is_dive_rule(r: CiRule) -> bool {
    r.info().dive_name.is_some()
}

/// Disabled rules of ours go on one line; dive's own are always listed, as dive does.
fn listed(r: &CiRuleResult) -> bool {
    r.configured.is_some() || is_dive_rule(r.rule)
}

/// The readable evaluation: measures, one row per rule, and under each failure its culprits.
pub fn text(e: &Evaluation, color: bool) -> String {
    let st = Style { on: color };
    let m = &e.measures;
    let mut s = String::new();
    let _ = writeln!(s, "{} {}", st.bold("Image:"), esc(&e.image));
    let _ = writeln!(s, "{}", st.bold("Analysis:"));
    let _ = writeln!(
        s,
        "  efficiency:                   {:.4} %",
        m.efficiency * 100.0
    );
    let _ = writeln!(
        s,
        "  wasted bytes (dive):          {} bytes ({})",
        m.wasted_bytes,
        human_bytes(m.wasted_bytes)
    );
    let uwp = m
        .user_wasted_percent
        .map(|p| format!("{:.4} %", p * 100.0))
        .unwrap_or_else(|| "n/a (no user bytes)".into());
    let _ = writeln!(s, "  user wasted percent (dive):   {uwp}");
    let _ = writeln!(
        s,
        "  true waste:                   {} bytes ({})",
        m.true_waste_bytes,
        human_bytes(m.true_waste_bytes)
    );
    let _ = writeln!(
        s,
        "  size:                         {} bytes ({}), compressed {}",
        m.size_bytes,
        human_bytes(m.size_bytes),
        human_bytes(m.compressed_bytes)
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", st.bold("Rules:"));
    let key_w = Gate::Image.rules().map(|r| r.key.len()).max().unwrap_or(0);
    let _ = writeln!(
        s,
        "  {:<4}  {:<key_w$}  {:<16}  MEASURED",
        "", "RULE", "THRESHOLD"
    );
    for r in e.results.iter().filter(|r| listed(r)) {
        let threshold = r.configured.clone().unwrap_or_else(|| "disabled".into());
        let measured = r
            .measured
            .as_ref()
            .map(|q| q.display())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "  {}  {:<key_w$}  {:<16}  {}",
            st.status(r.status),
            r.rule.key(),
            esc(&threshold),
            esc(&measured)
        );
        let indent = " ".repeat(8);
        if !r.message.is_empty() && r.configured.is_some() {
            let _ = writeln!(s, "{indent}{}", esc(&r.message));
        }
        for c in &r.culprits {
            let _ = writeln!(
                s,
                "{indent}  {:>9}  {}  ({})",
                human_bytes(c.bytes),
                esc(&c.name),
                esc(&c.detail)
            );
        }
    }
    let unset: Vec<&str> = e
        .results
        .iter()
        .filter(|r| !listed(r))
        .map(|r| r.rule.key())
        .collect();
    if !unset.is_empty() {
        let _ = writeln!(
            s,
            "  {}",
            st.paint("2", &format!("not configured: {}", unset.join(", ")))
        );
    }
    let _ = writeln!(s);
    let sum = summary(e);
    let verdict = if e.pass {
        st.paint("1;32", "PASS")
    } else {
        st.paint("1;31", "FAIL")
    };
    let _ = writeln!(
        s,
        "{} {verdict}  [pass:{} fail:{} skip:{}]",
        st.bold("Result:"),
        sum.pass,
        sum.fail,
        sum.skip
    );
    s
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // characters XML 1.0 cannot carry at all
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One line per culprit, for failure bodies.
fn culprit_lines(r: &CiRuleResult) -> String {
    r.culprits
        .iter()
        .map(|c| format!("{} ({} bytes, {})", c.name, c.bytes, c.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

fn threshold_and_measured(r: &CiRuleResult) -> String {
    format!(
        "threshold {}, measured {}",
        r.configured.as_deref().unwrap_or("disabled"),
        r.measured
            .as_ref()
            .map(|q| q.display())
            .unwrap_or_else(|| "-".into())
    )
}

/// JUnit XML: one testsuite for the image, one testcase per rule (GitLab and Jenkins read it).
pub fn junit(e: &Evaluation) -> String {
    let sum = summary(e);
    let total = e.results.len();
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        // Jenkins' junit-10.xsd allows `skipped` on <testsuite> only
        r#"<testsuites name="bathy ci" tests="{total}" failures="{}" errors="0" time="0">"#,
        sum.fail
    );
    let _ = writeln!(
        s,
        r#"  <testsuite name="{}" tests="{total}" failures="{}" errors="0" skipped="{}" time="0">"#,
        xml_escape(&e.image),
        sum.fail,
        sum.skip
    );
    for r in &e.results {
        let _ = writeln!(
            s,
            r#"    <testcase name="{}" classname="bathy.ci" time="0">"#,
            r.rule.key()
        );
        match r.status {
            Status::Fail => {
                let body = [threshold_and_measured(r), culprit_lines(r)]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                let _ = writeln!(
                    s,
                    r#"      <failure message="{}" type="{}">{}</failure>"#,
                    xml_escape(&r.message),
                    r.rule.key(),
                    xml_escape(&body)
                );
            }
            Status::Skip => {
                let _ = writeln!(
                    s,
                    r#"      <skipped message="{}"/>"#,
                    xml_escape(&r.message)
                );
            }
            Status::Pass => {}
        }
        let _ = writeln!(
            s,
            "      <system-out>{}</system-out>",
            xml_escape(&threshold_and_measured(r))
        );
        let _ = writeln!(s, "    </testcase>");
    }
    let _ = writeln!(s, "  </testsuite>");
    let _ = write!(s, "</testsuites>");
    s
}

/// SARIF 2.1.0: every rule in the driver, one result per rule (`kind` fail/pass/notApplicable).
/// `artifact` is the file results point at (code scanning requires one): the Dockerfile when
/// there is one, else the image.
pub fn sarif(e: &Evaluation, artifact: &str) -> String {
    use serde_json::json;
    // image rules only, in CiRule order: a result's index in this list is its CiRule number
    let rules: Vec<serde_json::Value> = Gate::Image
        .rules()
        .map(|r| {
            json!({
                "id": r.key,
                "name": r.key,
                "shortDescription": {"text": r.summary},
                "help": {"text": format!("See {RULES_DOC}, section {}.", r.key)},
                "defaultConfiguration": {"level": "error"},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = e
        .results
        .iter()
        .map(|r| {
            let (kind, level) = match r.status {
                Status::Fail => ("fail", "error"),
                Status::Pass => ("pass", "none"),
                Status::Skip => ("notApplicable", "none"),
            };
            let text = match r.status {
                Status::Fail => format!("{} ({})", r.message, threshold_and_measured(r)),
                Status::Pass => format!("{} passed ({})", r.rule.key(), threshold_and_measured(r)),
                Status::Skip => format!("{} skipped: {}", r.rule.key(), r.message),
            };
            let logical: Vec<serde_json::Value> = r
                .culprits
                .iter()
                .map(|c| json!({"fullyQualifiedName": c.name, "kind": "resource"}))
                .collect();
            let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": artifact}}});
            if !logical.is_empty() {
                location["logicalLocations"] = serde_json::Value::Array(logical);
            }
            json!({
                "ruleId": r.rule.key(),
                "ruleIndex": r.rule as usize,
                "kind": kind,
                "level": level,
                "message": {"text": text},
                "locations": [location],
                "properties": {
                    "image": e.image,
                    "configured": r.configured,
                    "threshold": r.threshold,
                    "measured": r.measured,
                    "culprits": r.culprits,
                },
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": TOOL_NAME,
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// GitHub's escaping for a workflow command's message; other control characters (an ESC
/// would reach the log raw) as everywhere a human reads.
fn gh_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    esc(&s).into_owned()
}

/// ... and for its properties.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: an error annotation per failure, a notice per pass and
/// per skip that has a reason, and a closing notice with the verdict.
pub fn github(e: &Evaluation) -> String {
    let mut s = String::new();
    for r in &e.results {
        let title = gh_property(&format!("bathy ci: {}", r.rule.key()));
        match r.status {
            Status::Fail => {
                let mut body = format!("{} ({})", r.message, threshold_and_measured(r));
                let lines = culprit_lines(r);
                if !lines.is_empty() {
                    body = format!("{body}\n{lines}");
                }
                let _ = writeln!(s, "::error title={title}::{}", gh_data(&body));
            }
            Status::Pass => {
                let _ = writeln!(
                    s,
                    "::notice title={title}::{}",
                    gh_data(&format!("PASS ({})", threshold_and_measured(r)))
                );
            }
            Status::Skip if r.configured.is_some() => {
                let _ = writeln!(
                    s,
                    "::notice title={title}::{}",
                    gh_data(&format!("SKIP: {}", r.message))
                );
            }
            Status::Skip => {}
        }
    }
    let sum = summary(e);
    let verdict = if e.pass { "PASS" } else { "FAIL" };
    let _ = write!(
        s,
        "::notice title={}::{}",
        gh_property("bathy ci"),
        gh_data(&format!(
            "{verdict} for {} [pass:{} fail:{} skip:{}]",
            e.image, sum.pass, sum.fail, sum.skip
        ))
    );
    s
}

/// What the Markdown summary shows besides the evaluation: the leftovers (largest first) and
/// the security findings, each with its fix. Empty when the why-analysis did not run.
#[derive(Clone, Copy, Default)]
pub struct Highlights<'a> {
    pub leftovers: &'a [Leftover],
    pub findings: &'a [Finding],
}

impl<'a> Highlights<'a> {
    pub fn of(why: &'a WhyReport) -> Highlights<'a> {
        Highlights {
            leftovers: &why.leftovers,
            findings: &why.findings,
        }
    }
}

/// How many leftovers and findings the summary lists (the count of the rest is given).
pub const SUMMARY_ROWS: usize = 10;

/// Text from the image (names, paths, commands) made inert in Markdown: control characters
/// escaped as everywhere a human reads (so no line break), then each character GitHub's
/// Markdown gives a meaning to anywhere in a line backslash-escaped (CommonMark lets any ASCII
/// punctuation be): a file named `a|b` cannot split a table cell, `<img>` is no HTML, `*x*` no
/// emphasis, `[a](b)` no link, `$x$` no maths, `@team` no mention. Characters that mean
/// something only at the start of a line (`-`, `+`, `=`) are left: this text never starts one.
pub fn md_escape(s: &str) -> String {
    let s = esc(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\`*_[]<>&|#!~$@:".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A headline number, as the summary shows it and its change.
#[derive(Clone, Copy)]
enum Num {
    Bytes(u64),
    Ratio(f64),
}

impl Num {
    fn show(self) -> String {
        match self {
            Num::Bytes(b) => human_bytes(b),
            Num::Ratio(r) => format!("{:.2} %", r * 100.0),
        }
    }
    /// `self` against `was`: a signed size, or percentage points.
    fn change(self, was: Num) -> String {
        match (self, was) {
            (Num::Bytes(a), Num::Bytes(b)) => human_delta(
                (a as i128 - b as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            ),
            (Num::Ratio(a), Num::Ratio(b)) => format!("{:+.2} pts", (a - b) * 100.0),
            _ => String::new(),
        }
    }
}

fn headline_numbers(m: &Measures) -> [(&'static str, Num); 5] {
    [
        ("size", Num::Bytes(m.size_bytes)),
        ("compressed", Num::Bytes(m.compressed_bytes)),
        ("efficiency (dive)", Num::Ratio(m.efficiency)),
        ("wasted bytes (dive)", Num::Bytes(m.wasted_bytes)),
        ("true waste", Num::Bytes(m.true_waste_bytes)),
    ]
}

/// The headline numbers, with the baseline's and the change when there is one.
fn md_measures(s: &mut String, e: &Evaluation) {
    let now = headline_numbers(&e.measures);
    match &e.baseline {
        Some(base) => {
            let _ = writeln!(
                s,
                "| | this image | baseline: {} | change |\n|---|---:|---:|---:|",
                md_escape(&base.image)
            );
            for ((name, n), (_, was)) in now.iter().zip(headline_numbers(&base.measures)) {
                let _ = writeln!(
                    s,
                    "| {name} | {} | {} | {} |",
                    n.show(),
                    was.show(),
                    n.change(was)
                );
            }
        }
        None => {
            let _ = writeln!(s, "| | this image |\n|---|---:|");
            for (name, n) in now {
                let _ = writeln!(s, "| {name} | {} |", n.show());
            }
        }
    }
}

/// One line per failed rule with its message, its culprits as a list under it.
fn md_failures(s: &mut String, e: &Evaluation) {
    let failed: Vec<&CiRuleResult> = e
        .results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n### Failed rules\n");
    for r in failed {
        let _ = writeln!(
            s,
            "- **{}** ({}): {}",
            r.rule.key(),
            md_escape(&threshold_and_measured(r)),
            md_escape(&r.message)
        );
        for c in &r.culprits {
            // findings carry no size
            let size = if c.bytes > 0 {
                format!("{}, ", human_bytes(c.bytes))
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "  - {} ({size}{})",
                md_escape(&c.name),
                md_escape(&c.detail)
            );
        }
    }
}

/// A collapsed section: GitHub and GitLab render Markdown inside `<details>` after a blank line.
fn md_details(s: &mut String, summary: &str, body: &str) {
    let _ = writeln!(
        s,
        "\n<details>\n<summary>{summary}</summary>\n\n{body}\n</details>"
    );
}

fn md_rules(e: &Evaluation) -> String {
    let mut s = String::from("| | rule | threshold | measured |\n|---|---|---|---|\n");
    for r in e.results.iter().filter(|r| listed(r)) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            r.status.label(),
            r.rule.key(),
            md_escape(r.configured.as_deref().unwrap_or("disabled")),
            md_escape(
                &r.measured
                    .as_ref()
                    .map(|q| q.display())
                    .unwrap_or_else(|| "-".into())
            )
        );
    }
    s
}

/// "… and N more" under a list cut at [`SUMMARY_ROWS`].
fn more(total: usize) -> String {
    if total > SUMMARY_ROWS {
        format!(
            "\n… and {} more (see the full report)\n",
            total - SUMMARY_ROWS
        )
    } else {
        String::new()
    }
}

fn md_leftovers(l: &[Leftover]) -> String {
    let mut s = String::from("| category | path | size | layer | fix |\n|---|---|---:|---:|---|\n");
    for x in l.iter().take(SUMMARY_ROWS) {
        let path = match &x.package {
            Some(p) => format!("{} (package {p})", x.path),
            None => x.path.clone(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            x.category.as_str(),
            md_escape(&path),
            human_bytes(x.bytes),
            x.layer.map(|l| l.to_string()).unwrap_or_default(),
            md_escape(&x.advice)
        );
    }
    s + &more(l.len())
}

fn md_findings(f: &[Finding]) -> String {
    let mut s = String::from("| check | path | layer | where | fix |\n|---|---|---:|---|---|\n");
    for x in f.iter().take(SUMMARY_ROWS) {
        let what = match &x.secret {
            Some(d) => format!(
                "{} {} ({})",
                x.check.as_str(),
                d.kind.as_str(),
                d.fingerprint
            ),
            None => x.check.as_str().to_string(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            md_escape(&what),
            md_escape(x.path.as_deref().unwrap_or(&x.instruction)),
            x.layer.map(|l| l.to_string()).unwrap_or_default(),
            md_escape(&x.presence.describe()),
            md_escape(x.fix())
        );
    }
    s + &more(f.len())
}

/// The Markdown summary for a merge request (`--ci-format markdown`, `--summary FILE`): the
/// verdict, the headline numbers (with the change against `--baseline`), each failed rule
/// with what caused it, and collapsed: every rule, the largest leftovers and the security
/// findings with their fixes.
pub fn markdown(e: &Evaluation, h: &Highlights) -> String {
    let sum = summary(e);
    let rules = sum.pass + sum.fail;
    let mut s = String::new();
    let verdict = if e.pass {
        format!("passes its {rules} CI rules")
    } else {
        format!("fails {} of its {rules} CI rules", sum.fail)
    };
    let mark = if e.pass { "✅" } else { "❌" };
    let _ = writeln!(s, "### {mark} bathy: {} {verdict}\n", md_escape(&e.image));
    md_measures(&mut s, e);
    md_failures(&mut s, e);
    md_details(
        &mut s,
        &format!(
            "Rules ({} listed)",
            e.results.iter().filter(|r| listed(r)).count()
        ),
        &md_rules(e),
    );
    if !h.leftovers.is_empty() {
        let bytes: u64 = h.leftovers.iter().map(|l| l.bytes).sum();
        md_details(
            &mut s,
            &format!(
                "Build-tool leftovers: {} in {} findings",
                human_bytes(bytes),
                h.leftovers.len()
            ),
            &md_leftovers(h.leftovers),
        );
    }
    if !h.findings.is_empty() {
        md_details(
            &mut s,
            &format!("Security findings ({})", h.findings.len()),
            &md_findings(h.findings),
        );
    }
    s
}

/// The measured value of a compare rule as one string (what failed to measure, when nothing was).
pub fn compare_measured(r: &CiRuleResult) -> String {
    r.measured
        .as_ref()
        .map(|q| q.display())
        .unwrap_or_else(|| r.message.clone())
}

/// The culprits of a compare rule, one line each: `/app/server +1000 B` (a file that grew),
/// `compiler /usr/lib/gcc (9000 B)` (a new leftover).
pub fn compare_causes(r: &CiRuleResult) -> Vec<String> {
    r.culprits
        .iter()
        .map(|c| match r.rule {
            CiRule::NoNewLeftovers => format!("{} {} ({} B)", c.detail, c.name, c.bytes),
            _ => format!("{} +{} B", c.name, c.bytes),
        })
        .collect()
}

/// The rules a compare evaluation lists: the configured ones.
pub fn compare_rules(e: &Evaluation) -> impl Iterator<Item = &CiRuleResult> {
    e.results.iter().filter(|r| r.configured.is_some())
}

/// `bathy compare A B --ci`: the headline, one line per configured rule with the causes of
/// failures under it, the verdict.
pub fn compare_text(c: &Comparison, e: &Evaluation) -> String {
    let mut s = render_headline(c);
    let _ = writeln!(s);
    let rules: Vec<&CiRuleResult> = compare_rules(e).collect();
    if rules.is_empty() {
        let _ = writeln!(
            s,
            "No rules given (use --max-growth SIZE|N% or --fail-on-new-leftovers)."
        );
    }
    for r in &rules {
        let _ = writeln!(
            s,
            "  {}  {:<18} limit {:<12} measured {}",
            r.status.label(),
            r.rule.key(),
            esc(r.configured.as_deref().unwrap_or_default()),
            esc(&compare_measured(r))
        );
        for cause in compare_causes(r) {
            let _ = writeln!(s, "          {}", esc(&cause));
        }
    }
    let failed = rules.iter().filter(|r| r.status == Status::Fail).count();
    let _ = writeln!(s);
    if failed == 0 {
        let _ = writeln!(s, "Result: PASS");
    } else {
        let _ = writeln!(s, "Result: FAIL ({failed} of {} rules)", rules.len());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            xml_escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{FFFD}"
        );
        assert_eq!(gh_data("50%\nx"), "50%25%0Ax");
        assert_eq!(gh_property("a:b,c"), "a%3Ab%2Cc");
    }
}
