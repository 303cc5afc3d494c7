//! A Dockerfile parser just deep enough for stage attribution: stages (`FROM … AS name`, `ARG`
//! before `FROM`), instructions with their `--from`, continuation lines and heredocs.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct Instruction {
    /// Upper-case keyword: `RUN`, `COPY`, …
    pub kind: String,
    /// The rest of the instruction, continuation lines joined.
    pub args: String,
    /// `COPY --from=X` / `ADD --from=X` (rare) source.
    pub from: Option<String>,
    /// 1-based line of the keyword.
    pub line: usize,
}

impl Instruction {
    pub fn text(&self) -> String {
        format!("{} {}", self.kind, self.args)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub index: usize,
    pub name: Option<String>,
    /// The `FROM` image, build args substituted.
    pub from: String,
    pub instructions: Vec<Instruction>,
    /// 1-based line of the `FROM`.
    pub line: usize,
}

impl Stage {
    /// `name`, else the stage's index as `docker build` accepts it.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("stage-{}", self.index))
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dockerfile {
    pub stages: Vec<Stage>,
}

impl Dockerfile {
    pub fn load(path: &Path) -> Result<Dockerfile> {
        let text = crate::small_file::read_capped_text(path, crate::small_file::MAX_TEXT)?;
        Dockerfile::parse(&text).map_err(|m| Error::Usage(format!("{}: {m}", path.display())))
    }

    /// The stage a `FROM` or `--from` names (by name, case-insensitive, or index).
    pub fn stage(&self, reference: &str) -> Option<&Stage> {
        let r = reference.to_ascii_lowercase();
        self.stages
            .iter()
            .find(|s| {
                s.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&r))
            })
            .or_else(|| r.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }

    /// The stages the target is built on, root first, ending with the target.
    pub fn chain(&self, target: Option<&str>) -> Result<Vec<&Stage>> {
        let mut cur = match target {
            Some(t) => self.stage(t).ok_or_else(|| {
                Error::Usage(format!("--target {t}: no such stage in the Dockerfile"))
            })?,
            None => self
                .stages
                .last()
                .ok_or_else(|| Error::Usage("the Dockerfile has no FROM".into()))?,
        };
        let mut chain = vec![cur];
        while let Some(parent) = self.stage(&cur.from).filter(|p| p.index < cur.index) {
            chain.push(parent);
            cur = parent;
        }
        chain.reverse();
        Ok(chain)
    }

    pub fn parse(text: &str) -> std::result::Result<Dockerfile, String> {
        let mut escape = '\\';
        let lines: Vec<&str> = text.lines().collect();
        // parser directives: only at the very top
        for l in &lines {
            let t = l.trim();
            if let Some(d) = t.strip_prefix('#') {
                if let Some((k, v)) = d.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("escape") {
                        escape = v.trim().chars().next().unwrap_or('\\');
                    }
                    continue;
                }
            }
            break;
        }
        let mut global_args: HashMap<String, String> = HashMap::new();
        let mut df = Dockerfile::default();
        let mut i = 0;
        while i < lines.len() {
            let start = i;
            let mut logical = String::new();
            // join continuation lines; comment lines inside are dropped
            while let Some(raw) = lines.get(i) {
                i += 1;
                let t = raw.trim_end();
                if logical.is_empty() && t.trim_start().starts_with('#') {
                    break;
                }
                if !logical.is_empty() && t.trim_start().starts_with('#') {
                    continue;
                }
                if let Some(body) = t.strip_suffix(escape) {
                    logical.push_str(body);
                    logical.push(' ');
                    continue;
                }
                logical.push_str(t);
                break;
            }
            let logical = logical.trim().to_string();
            if logical.is_empty() {
                continue;
            }
            let (kw, rest) = logical
                .split_once(char::is_whitespace)
                .unwrap_or((&logical, ""));
            let kind = kw.to_ascii_uppercase();
            let mut args = rest.trim().to_string();
            // heredocs: `<<EOF` … `EOF` lines belong to this instruction
            if let Some(tag) = heredoc_tag(&args) {
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    args.push('\n');
                    args.push_str(l);
                    if l.trim() == tag {
                        break;
                    }
                }
            }
            if kind == "FROM" {
                let words: Vec<&str> = args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let image = substitute(words.first().copied().unwrap_or(""), &global_args);
                let name = match (words.get(1), words.get(2)) {
                    (Some(a), Some(n)) if a.eq_ignore_ascii_case("as") => Some(n.to_string()),
                    _ => None,
                };
                df.stages.push(Stage {
                    index: df.stages.len(),
                    name,
                    from: image,
                    instructions: Vec::new(),
                    line: start + 1,
                });
                continue;
            }
            let from = args
                .split_whitespace()
                .take_while(|w| w.starts_with("--"))
                .find_map(|w| w.strip_prefix("--from="))
                .map(|s| s.trim_matches('"').to_string());
            let ins = Instruction {
                kind: kind.clone(),
                args,
                from,
                line: start + 1,
            };
            match df.stages.last_mut() {
                Some(s) => s.instructions.push(ins),
                None if kind == "ARG" => {
                    for a in ins.args.split_whitespace() {
                        let (k, v) = a.split_once('=').unwrap_or((a, ""));
                        global_args.insert(k.to_string(), v.trim_matches('"').to_string());
                    }
                }
                None => return Err(format!("line {}: {kind} before the first FROM", start + 1)),
            }
        }
        if df.stages.is_empty() {
            return Err("no FROM instruction".into());
        }
        Ok(df)
    }
}

fn heredoc_tag(args: &str) -> Option<String> {
    let i = args.find("<<")?;
    let rest = args[i + 2..].trim_start_matches('-');
    let tag: String = rest
        .trim_matches(|c| c == '"' || c == '\'')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()))
    .then_some(tag)
}

/// `$VAR`, `${VAR}` and `${VAR:-default}` from the build args.
fn substitute(s: &str, args: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' {
            if chars.get(i + 1) == Some(&'{') {
                if let Some(end) = chars[i..].iter().position(|&c| c == '}') {
                    let inner: String = chars[i + 2..i + end].iter().collect();
                    let (name, default) = match inner.split_once(":-") {
                        Some((n, d)) => (n.to_string(), Some(d.to_string())),
                        None => (inner.clone(), None),
                    };
                    let v = args
                        .get(&name)
                        .filter(|v| !v.is_empty())
                        .cloned()
                        .or(default)
                        .unwrap_or_default();
                    out.push_str(&v);
                    i += end + 1;
                    continue;
                }
            } else {
                let name: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push_str(args.get(&name).map(|s| s.as_str()).unwrap_or(""));
                    i += 1 + name.len();
                    continue;
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multi_stage_with_args_continuations_and_heredocs() {
        let df = Dockerfile::parse(
            "# syntax=docker/dockerfile:1\nARG GO=1.22\nFROM golang:${GO} AS Builder\nRUN apt-get update && \\\n    # a comment\n    apt-get install -y gcc\nCOPY <<EOF /x\nhello\nEOF\nFROM scratch\nCOPY --from=builder /app/server /server\nCMD [\"/server\"]\n",
        )
        .expect("parses");
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].from, "golang:1.22");
        assert_eq!(df.stages[0].name.as_deref(), Some("Builder"));
        assert_eq!(
            df.stages[0].instructions[0].args,
            "apt-get update &&      apt-get install -y gcc"
        );
        assert_eq!(df.stages[0].instructions[1].kind, "COPY");
        assert!(df.stages[0].instructions[1].args.ends_with("EOF"));
        assert_eq!(
            df.stages[1].instructions[0].from.as_deref(),
            Some("builder")
        );
        assert_eq!(df.stage("builder").map(|s| s.index), Some(0));
        assert_eq!(df.chain(None).expect("chain").len(), 1);
        assert!(Dockerfile::parse("RUN x\n").is_err());
    }

    #[test]
    fn chains_stages_built_on_stages() {
        let df = Dockerfile::parse("FROM debian AS base\nRUN a\nFROM base AS deps\nRUN b\nFROM base\nCOPY --from=deps /x /x\n").expect("parses");
        let chain: Vec<usize> = df
            .chain(None)
            .expect("chain")
            .iter()
            .map(|s| s.index)
            .collect();
        assert_eq!(chain, vec![0, 2]);
        let chain: Vec<usize> = df
            .chain(Some("deps"))
            .expect("chain")
            .iter()
            .map(|s| s.index)
            .collect();
        assert_eq!(chain, vec![0, 1]);
        assert!(df.chain(Some("nope")).is_err());
    }
}
