//! Reports over an analysed image: dive-compatible JSON with our own keys, and a text report
//! for pipes. Formats only; every number comes from `analysis`.

pub mod ci;
pub mod compare_json;
pub mod compare_text;
pub mod json;
pub mod text;
pub mod treemap;

/// `1234567` → `1.2 MB` (SI units, as dive prints sizes).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sizes_read_like_dive() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_220_598), "1.2 MB");
        assert_eq!(human_bytes(484_000_000), "484 MB");
        assert_eq!(human_delta(-2000), "-2.0 kB");
    }
}
