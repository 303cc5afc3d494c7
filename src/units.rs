//! Sizes and ratios: the one grammar for reading them (CI thresholds, flags, `.dive-ci`) and the
//! one way of writing them (reports, the explorer). The bottom layer: imports nothing of ours.
//!
//! Reading follows dive, so that a `.dive-ci` tuned for dive means the same here: sizes as
//! go-humanize's `ParseBytes`, numbers as Go's `strconv.ParseFloat`. docs/ci.md holds the
//! grammar with a table of examples that a test checks against [`parse_limit`].

/// A size limit: absolute bytes, or a fraction of a reference size (`5%` is 0.05).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    Bytes(u64),
    Fraction(f64),
}

/// Go's `ParseFloat` accepts what Rust's does for decimal input (signs, exponents, `inf`,
/// `nan`), but not surrounding spaces; neither do we.
fn go_parse_float(text: &str) -> Option<f64> {
    if text.is_empty() || text.trim() != text {
        return None;
    }
    text.parse::<f64>().ok()
}

/// A ratio between 0 and 1 (`0.9`), parsed as Go's `strconv.ParseFloat` would.
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    let v = go_parse_float(text).ok_or_else(|| format!("{text:?} is not a number"))?;
    // dive's range check lets NaN through, which would make a rule pass on anything
    if v.is_nan() || !(0.0..=1.0).contains(&v) {
        return Err(format!("{text:?} is outside the allowed range (0-1)"));
    }
    Ok(v)
}

/// The multiplier of a size unit, lowercased: SI units are powers of 1000, `i` units powers of
/// 1024 (go-humanize's table: `k`, `kb`, `ki`, `kib`, ... up to `e`, `eb`, `ei`, `eib`).
fn unit_multiplier(unit: &str) -> Option<u64> {
    const SI: [&str; 6] = ["k", "m", "g", "t", "p", "e"];
    if unit.is_empty() || unit == "b" {
        return Some(1);
    }
    let (prefix, binary) = match unit.strip_suffix("ib").or_else(|| unit.strip_suffix('i')) {
        Some(p) => (p, true),
        None => (unit.strip_suffix('b').unwrap_or(unit), false),
    };
    let power = SI.iter().position(|&p| p == prefix)? as u32 + 1;
    Some(if binary {
        1u64 << (10 * power)
    } else {
        1000u64.pow(power)
    })
}

/// A size in bytes, as go-humanize's `ParseBytes` (which dive uses) reads one: digits, `.` and
/// `,` (dropped: a thousands separator), then an optional unit, any case, spaces allowed before
/// it: `20MB` is 20·10^6, `20MiB` 20·2^20, `20M` 20·10^6, `1024` bytes. Fractions of a byte are
/// dropped (`1.5` is 1), as Go's conversion to an integer does.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(text.len());
    let number: String = text[..end].chars().filter(|&c| c != ',').collect();
    let value = go_parse_float(&number)
        .ok_or_else(|| format!("{text:?} is not a size (e.g. 20MB, 20MiB, 1024)"))?;
    let unit = text[end..].trim().to_lowercase();
    let multiplier =
        unit_multiplier(&unit).ok_or_else(|| format!("{text:?}: unknown size unit {unit:?}"))?;
    let bytes = value * multiplier as f64;
    if bytes >= u64::MAX as f64 {
        return Err(format!("{text:?} is too large"));
    }
    // Go's uint64(f) truncates toward zero
    Ok(bytes as u64)
}

/// A size (`20MB`, as [`parse_bytes`]) or a percentage of a reference size (`5%`, `12.5 %`).
pub fn parse_limit(text: &str) -> Result<Limit, String> {
    if let Some(p) = text.trim().strip_suffix('%') {
        let v = go_parse_float(p.trim())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("{text:?} is not a percentage (e.g. 5%)"))?;
        return Ok(Limit::Fraction(v / 100.0));
    }
    parse_bytes(text).map(Limit::Bytes)
}

/// `1234567` → `1.2 MB` (SI units, as dive prints sizes).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A signed size delta: `+1.2 MB`, `-340 B`, `0 B`.
pub fn human_delta(d: i64) -> String {
    if d > 0 {
        format!("+{}", human_bytes(d as u64))
    } else if d < 0 {
        format!("-{}", human_bytes(d.unsigned_abs()))
    } else {
        "0 B".to_string()
    }
}

/// A fraction as a percentage with up to four decimals: `0.026237` → `2.6237%`.
pub fn percent(f: f64) -> String {
    format!("{}%", round4(f * 100.0))
}

/// Rounded to four decimals, for ratios and percentages people read.
pub fn round4(r: f64) -> f64 {
    (r * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_as_go_humanize() {
        assert_eq!(parse_bytes("20MB"), Ok(20_000_000));
        assert_eq!(parse_bytes("20Mb"), Ok(20_000_000));
        assert_eq!(parse_bytes("20mb"), Ok(20_000_000));
        // 20 · 2^20 = 20 · 1048576
        assert_eq!(parse_bytes("20MiB"), Ok(20_971_520));
        assert_eq!(parse_bytes("20 MiB"), Ok(20_971_520));
        assert_eq!(parse_bytes("20M"), Ok(20_000_000));
        assert_eq!(parse_bytes("20Mi"), Ok(20_971_520));
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("1024b"), Ok(1024));
        assert_eq!(parse_bytes("1,000"), Ok(1000));
        // 32.025 · 1000; 0.032 · 1048576 = 33554.432, truncated
        assert_eq!(parse_bytes("32.025kB"), Ok(32_025));
        assert_eq!(parse_bytes("0.032mib"), Ok(33_554));
        assert_eq!(parse_bytes("1.5"), Ok(1));
        // 10^18 and 2^60 still fit in 64 bits
        assert_eq!(parse_bytes("1EB"), Ok(1_000_000_000_000_000_000));
        assert_eq!(parse_bytes("1EiB"), Ok(1 << 60));
        assert_eq!(parse_bytes("2PiB"), Ok(1 << 51));
        for bad in [
            "1e5",
            "abc",
            " 5",
            "",
            "-5MB",
            "5 parsecs",
            "20EiB",
            "5KB B",
            "5ib",
            "5bb",
        ] {
            assert!(parse_bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ratios_and_limits() {
        assert_eq!(parse_ratio("0.9"), Ok(0.9));
        assert_eq!(parse_ratio("1"), Ok(1.0));
        assert_eq!(parse_ratio("+0.5"), Ok(0.5));
        for bad in ["1.5", "-0.1", "nan", "0.9 ", "x"] {
            assert!(parse_ratio(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_limit("5%"), Ok(Limit::Fraction(0.05)));
        assert_eq!(parse_limit("12.5 %"), Ok(Limit::Fraction(0.125)));
        assert_eq!(parse_limit("2MB"), Ok(Limit::Bytes(2_000_000)));
        for bad in ["-5%", "%", "inf%", "nan%"] {
            assert!(parse_limit(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes_read_like_dive() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_220_598), "1.2 MB");
        assert_eq!(human_bytes(484_000_000), "484 MB");
        assert_eq!(human_bytes(u64::MAX), "18.4 EB");
        assert_eq!(human_delta(-2000), "-2.0 kB");
        assert_eq!(human_delta(0), "0 B");
        assert_eq!(percent(0.026_237), "2.6237%");
    }

    /// docs/ci.md's table of size examples, each checked against the parser, so the document
    /// and the code cannot drift apart.
    #[test]
    fn the_documented_examples_hold() {
        let doc = include_str!("../docs/ci.md");
        let start = doc
            .find("<!-- size-examples -->")
            .expect("docs/ci.md marks its size table");
        let mut rows = 0;
        for line in doc[start..].lines().skip(1) {
            let line = line.trim();
            if !line.starts_with('|') {
                if rows > 0 {
                    break;
                }
                continue;
            }
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let [written, means] = cells[..] else {
                panic!("two cells per row: {line}");
            };
            if written == "written" || written.starts_with("---") {
                continue;
            }
            let written = written.trim_matches('`');
            let got = parse_limit(written);
            match means {
                "error" => assert!(got.is_err(), "{written:?} should be an error: {got:?}"),
                m if m.ends_with(" bytes") || m.ends_with(" byte") => {
                    let n: u64 = m
                        .trim_end_matches(" bytes")
                        .trim_end_matches(" byte")
                        .replace(' ', "")
                        .parse()
                        .expect("a byte count");
                    assert_eq!(got, Ok(Limit::Bytes(n)), "{written:?}");
                }
                m => {
                    let f: f64 = m
                        .strip_prefix("fraction ")
                        .expect("`N bytes`, `fraction F` or `error`")
                        .parse()
                        .expect("a fraction");
                    assert_eq!(got, Ok(Limit::Fraction(f)), "{written:?}");
                }
            }
            rows += 1;
        }
        assert!(rows >= 10, "docs/ci.md's size table has {rows} rows");
    }
}
