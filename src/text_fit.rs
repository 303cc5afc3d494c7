//! Text made fit for a human: control characters shown as visible escapes, and text cut to a
//! width with `…` at the end, or in the middle of a path so its file name stays. The bottom
//! layer: imports nothing of ours.
//!
//! Names, commands and tags come from untrusted images: every human-readable renderer (text
//! report, compare text, CI text, stderr) passes them through [`escape_controls`] (or [`shown`])
//! so that no ESC sequence reaches a terminal and no CR/LF forges a line in a CI log.
//!
//! Widths are counted in chars, not bytes (a cut never splits a UTF-8 sequence). A char is taken
//! as one column: the core must not depend on the terminal stack for a width table, and the
//! names images hold are overwhelmingly narrow.

/// `s` with every control character (C0, DEL, C1) written as a visible escape: `\n`, `\r`,
/// `\t`, `\x1b`, `\u{9b}`. Borrowed unchanged when there is none (the common case).
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Untrusted text as shown to a human: control characters escaped, then cut to `max` chars.
pub fn shown(s: &str, max: usize) -> String {
    truncate(&escape_controls(s), max)
}

/// How much of a quoted input value a message repeats (a 200 MB value is not echoed whole).
pub const QUOTE_MAX: usize = 200;

/// An input value quoted in a message: escaped, cut to [`QUOTE_MAX`] chars, in quotes.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", shown(s, QUOTE_MAX))
}

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

/// `middle` between `prefix` and `suffix`, cut so that the whole fits in `width` chars: a path
/// in its middle (`path`), other text at its end; the prefix and suffix (numbers, layers) are
/// never cut. The middle keeps at least 8 chars, so a very narrow width may overflow.
pub fn fit_between(prefix: &str, middle: &str, suffix: &str, width: usize, path: bool) -> String {
    let fixed = prefix.chars().count() + suffix.chars().count();
    let room = width.saturating_sub(fixed).max(8);
    let mid = if path {
        middle_cut_path(middle, room)
    } else {
        truncate(middle, room)
    };
    format!("{prefix}{mid}{suffix}")
}

/// Prose wrapped at word boundaries into lines of at most `width` chars: the first starts with
/// `first`, the others with `rest`. A size keeps its unit (`800 B` never breaks); a word longer
/// than a line is left whole on its own line.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    const UNITS: [&str; 8] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "%"];
    let mut words: Vec<String> = Vec::new();
    for w in text.split_whitespace() {
        let unit = UNITS.contains(&w.trim_end_matches([',', '.', ')', ';', ':']));
        match words.last_mut() {
            Some(prev) if unit && prev.ends_with(|c: char| c.is_ascii_digit()) => {
                prev.push(' ');
                prev.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in &words {
        let n = line.chars().count();
        if !empty && n + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
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
    fn controls_are_escaped_visibly() {
        assert_eq!(escape_controls("plain/name é"), "plain/name é");
        assert_eq!(
            escape_controls("x\n::error title=y::z\r\t\x1b]0;t\x07\u{9b}2J\x7f"),
            "x\\n::error title=y::z\\r\\t\\x1b]0;t\\x07\\u{9b}2J\\x7f"
        );
        assert_eq!(shown("a\x1bbcdef", 6), "a\\x1b…");
        let q = quoted(&"v".repeat(1_000_000));
        assert_eq!(q.chars().count(), QUOTE_MAX + 2);
        assert!(q.ends_with("…\""));
    }

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
    fn fit_between_cuts_the_middle_only() {
        assert_eq!(
            fit_between("  12 kB  ", "/a/b/c/name", "  (layer 1)", 100, true),
            "  12 kB  /a/b/c/name  (layer 1)"
        );
        let cut = fit_between(
            "  12 kB  ",
            "/usr/share/perl/5.36.0/x/name.pm",
            "  (layer 1)",
            40,
            true,
        );
        assert_eq!(cut.chars().count(), 40);
        assert!(
            cut.starts_with("  12 kB  /usr") && cut.ends_with("name.pm  (layer 1)"),
            "{cut}"
        );
        assert_eq!(
            fit_between("> ", "abcdefghijkl", "", 10, false),
            "> abcdefg…"
        );
    }

    #[test]
    fn wrap_breaks_at_words() {
        assert_eq!(
            wrap("one two three four", 12, "  → ", "    "),
            vec!["  → one two", "    three", "    four"]
        );
        assert_eq!(
            wrap("averyveryverylongword x", 8, "", ""),
            vec!["averyveryverylongword", "x"]
        );
        assert_eq!(wrap("", 8, "> ", ""), vec!["> "]);
        // a size and its unit stay on one line
        assert_eq!(
            wrap("docs 12.5 kB, dev 800 B.", 14, "", ""),
            vec!["docs 12.5 kB,", "dev 800 B."]
        );
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
