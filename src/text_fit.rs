//! Fitting text into a width: cut with `…` at the end, or in the middle of a path so its file
//! name stays. The bottom layer: imports nothing of ours.
//!
//! Widths are counted in chars, not bytes (a cut never splits a UTF-8 sequence). A char is taken
//! as one column: the core must not depend on the terminal stack for a width table, and the
//! names images hold are overwhelmingly narrow.

/// `s` in at most `max` chars: unchanged when it fits, else its first `max - 1` chars and `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// `s` cut or padded with spaces to exactly `width` chars (table cells).
pub fn fit(s: &str, width: usize) -> String {
    let t = truncate(s, width);
    let n = t.chars().count();
    t + &" ".repeat(width - n)
}

/// A path in at most `max` chars, cut in the middle so the file name stays readable:
/// `/usr/lib/python3/site-packages/numpy/core.py` → `/usr/lib/…/numpy/core.py`. A name that
/// alone is too long keeps its end (and the path a quarter of its start): names that differ
/// only at their end (`…_binary-amd64_Packages`, `…_i18n_Translation-en`) stay apart.
pub fn middle_cut_path(path: &str, max: usize) -> String {
    let n = path.chars().count();
    if n <= max {
        return path.to_string();
    }
    let name_start = path.rfind('/').map_or(0, |i| i + 1);
    let name_len = path[name_start..].chars().count();
    if max < 4 {
        return truncate(path, max);
    }
    // room for at least one char of the head and the `…`; a longer name keeps its end
    if name_len + 2 > max {
        let head_len = (max - 1) / 4;
        let tail_len = max - 1 - head_len;
        let head: String = path.chars().take(head_len).collect();
        let tail: String = path.chars().skip(n - tail_len).collect();
        return format!("{head}…{tail}");
    }
    // keep as much of the tail (the name and the directories just above it) as fits with half
    // the room, the rest goes to the head
    let tail_len = (max - 1).div_ceil(2).max(name_len).min(max - 2);
    let head_len = max - 1 - tail_len;
    let head: String = path.chars().take(head_len).collect();
    let tail: String = path.chars().skip(n - tail_len).collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_chars_not_bytes() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("abcd", 1), "…");
        assert_eq!(truncate("abcd", 0), "");
        assert_eq!(truncate("", 0), "");
        // four chars, twelve bytes: fits in 4, and a cut never splits a char
        assert_eq!(truncate("日本語か", 4), "日本語か");
        assert_eq!(truncate("日本語か", 3), "日本…");
        assert_eq!(truncate("é✓ü", 2), "é…");
    }

    #[test]
    fn fit_pads_or_cuts_to_the_width() {
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("✓", 2), "✓ ");
        assert_eq!(fit("x", 0), "");
    }

    #[test]
    fn middle_cut_keeps_the_file_name() {
        let p = "/usr/lib/python3/site-packages/numpy/core.py";
        assert_eq!(middle_cut_path(p, 100), p);
        let cut = middle_cut_path(p, 24);
        assert_eq!(cut.chars().count(), 24);
        assert_eq!(cut, "/usr/lib/py…umpy/core.py");
        assert!(cut.ends_with("core.py"));
        // the name alone takes the tail; one char of head, then `…`
        assert_eq!(middle_cut_path("/a/b/c/longname", 10), "/…longname");
        // too long a name: its end stays, after a quarter of the path's start
        assert_eq!(middle_cut_path("/a/verylongfilename", 8), "/…lename");
        let lists = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_";
        let (a, b) = (
            middle_cut_path(&format!("{lists}binary-amd64_Packages"), 30),
            middle_cut_path(&format!("{lists}i18n_Translation-en"), 30),
        );
        assert_ne!(a, b);
        assert!(
            a.starts_with("/var/l") && a.ends_with("binary-amd64_Packages"),
            "{a}"
        );
        // chars, not bytes: twelve-byte names are four wide
        let cut = middle_cut_path("/données/über/日本語か.txt", 14);
        assert_eq!(cut.chars().count(), 14);
        assert!(cut.ends_with("日本語か.txt"), "{cut}");
    }
}
