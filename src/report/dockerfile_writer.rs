//! The text of the Dockerfile `bathy suggest` writes, from its plan (`analysis::suggest`):
//! the build stage, then the runtime stage with a comment on every COPY and every assumption.
//! Everything taken from the image (paths, history, config values) is untrusted: comments get
//! it with control characters escaped, and instructions only in forms Docker reads literally.

use crate::analysis::suggest::{BuildStage, Carried, CopyLine, Plan, Step};
use crate::text_fit::escape_controls;
use crate::units::human_bytes;
use std::fmt::Write;

/// A COPY with more words (sources and destination) than this has one a line.
const WRAP_WORDS: usize = 4;

/// The whole Dockerfile, ending with a newline.
pub fn render(plan: &Plan) -> String {
    let mut s = String::new();
    if let BuildStage::Original { directives, .. } = &plan.build {
        if !directives.is_empty() {
            let _ = writeln!(s, "{directives}");
        }
    }
    header(&mut s, plan);
    build_stage(&mut s, plan);
    runtime_stage(&mut s, plan);
    s
}

/// A comment line: untrusted text escaped so that it stays one line.
fn comment(s: &mut String, text: &str) {
    let _ = writeln!(s, "# {}", escape_controls(text));
}

fn header(s: &mut String, plan: &Plan) {
    let origin = match &plan.build {
        BuildStage::Original { .. } => "the original Dockerfile's build, unchanged".to_string(),
        BuildStage::Reconstructed { .. } => {
            "a build stage reconstructed from the image's history (check it: see below)".into()
        }
    };
    comment(s, "Multi-stage rewrite written by `bathy suggest`:");
    comment(s, &format!("  build stage: {origin};"));
    comment(
        s,
        &format!(
            "  runtime stage: only the runtime closure of {} ({} of the {} final filesystem).",
            plan.program,
            human_bytes(plan.closure_bytes),
            human_bytes(plan.final_bytes)
        ),
    );
    comment(
        s,
        "Check it with `bathy suggest --verify`, which builds it and runs both images.",
    );
    s.push('\n');
}

fn build_stage(s: &mut String, plan: &Plan) {
    match &plan.build {
        BuildStage::Original {
            text,
            dropped_stages,
            ..
        } => {
            if !dropped_stages.is_empty() {
                comment(
                    s,
                    &format!(
                        "stages after the built one are left out: {}",
                        dropped_stages.join(", ")
                    ),
                );
            }
            let _ = writeln!(s, "{text}");
        }
        BuildStage::Reconstructed { from, steps } => {
            comment(s, "No Dockerfile was given: this build stage is reconstructed from the image's history.");
            let lost = steps
                .iter()
                .filter(|st| matches!(st, Step::Lost { .. }))
                .count();
            if lost > 0 {
                comment(s, &format!("{lost} step(s) could not be reconstructed; each is marked LOST below, commented out."));
            }
            match from {
                Some(b) => {
                    let _ = writeln!(s, "FROM {b} AS {}", plan.build_name);
                }
                None => {
                    comment(s, "The base image is not recorded in the image: pass it with --build-arg BUILD_BASE=IMAGE.");
                    let _ = writeln!(s, "ARG BUILD_BASE");
                    let _ = writeln!(s, "FROM ${{BUILD_BASE}} AS {}", plan.build_name);
                }
            }
            for st in steps {
                match st {
                    Step::Kept(t) => {
                        let _ = writeln!(s, "{t}");
                    }
                    Step::Lost { text, why } => {
                        comment(s, &format!("LOST ({why}): {text}"));
                    }
                }
            }
        }
    }
}

fn runtime_stage(s: &mut String, plan: &Plan) {
    s.push('\n');
    comment(
        s,
        &format!(
            "---- runtime stage: what {} needs to run ----",
            plan.program
        ),
    );
    comment(s, "Assumptions:");
    for a in &plan.assumptions {
        comment(s, &format!("  - {a}"));
    }
    comment(
        s,
        &format!("Base {}: {}.", plan.runtime_base, plan.base_reason),
    );
    let _ = writeln!(s, "FROM {}", plan.runtime_base);
    for c in &plan.copies {
        copy_line(s, &plan.build_name, c);
    }
    config(s, &plan.carried);
}

fn copy_line(s: &mut String, from: &str, c: &CopyLine) {
    comment(s, &format!("{} ({})", c.why, human_bytes(c.bytes)));
    let mut words: Vec<&str> = c.sources.iter().map(String::as_str).collect();
    words.push(&c.dest);
    let line = if words.iter().any(|w| w.contains(char::is_whitespace)) {
        // JSON form: a path with spaces is one argument
        format!(
            "COPY --from={from} {}",
            serde_json::to_string(&words).unwrap_or_default()
        )
    } else if words.len() > WRAP_WORDS && !c.optional {
        // one path a line: a long list stays readable and diffs well
        format!("COPY --from={from} \\\n    {}", words.join(" \\\n    "))
    } else {
        format!("COPY --from={from} {}", words.join(" "))
    };
    if c.optional {
        let _ = writeln!(s, "# {line}");
    } else {
        let _ = writeln!(s, "{line}");
    }
}

/// A value in double quotes as ENV and LABEL read it: `\`, `"` and `$` escaped.
fn quoted(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A bare value (WORKDIR, USER) with `$` and `\` escaped, as Docker substitutes variables in them.
fn bare(v: &str) -> String {
    v.replace('\\', "\\\\").replace('$', "\\$")
}

fn config(s: &mut String, c: &Carried) {
    for kv in &c.env {
        if let Some((k, v)) = kv.split_once('=') {
            let _ = writeln!(s, "ENV {k}={}", quoted(v));
        }
    }
    for (k, v) in &c.labels {
        let _ = writeln!(s, "LABEL {}={}", quoted(k), quoted(v));
    }
    if let Some(w) = &c.workdir {
        let _ = writeln!(s, "WORKDIR {}", bare(w));
    }
    if let Some(u) = &c.user {
        let _ = writeln!(s, "USER {}", bare(u));
    }
    if !c.expose.is_empty() {
        let _ = writeln!(s, "EXPOSE {}", c.expose.join(" "));
    }
    let exec = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    if let Some(e) = c.entrypoint.as_ref().filter(|e| !e.is_empty()) {
        let _ = writeln!(s, "ENTRYPOINT {}", exec(e));
    }
    if let Some(cmd) = c.cmd.as_ref().filter(|c| !c.is_empty()) {
        let _ = writeln!(s, "CMD {}", exec(cmd));
    }
}
