//! Cutting text to a width with a visible sign: names lose their end ("…"), paths their middle
//! so the file name stays. Numbers and digests are never passed here: their columns are
//! dropped or narrowed instead.

/// Display columns of `s` (one per char: the explorer's names are treated as narrow).
pub fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` in at most `w` columns, its end replaced by "…" when it does not fit.
pub fn end(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w - 1).collect();
    out.push('…');
    out
}

/// `s` in at most `w` columns, its middle replaced by "…" when it does not fit: the end (a
/// path's file name) is kept whole as long as it fits, the start gets the rest.
pub fn middle(s: &str, w: usize) -> String {
    let n = width(s);
    if n <= w {
        return s.to_string();
    }
    if w <= 1 {
        return "…".chars().take(w).collect();
    }
    let name_len = s.rsplit('/').next().map(width).unwrap_or(0);
    let keep = w - 1;
    // the tail keeps the last component and at least half of what is kept; the head keeps a
    // quarter even when the name alone is longer (where the path starts still shows)
    let tail = name_len.max(keep / 2).min(keep - keep / 4);
    let head = keep - tail;
    let chars: Vec<char> = s.chars().collect();
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[n - tail..]);
    out
}

/// `s` padded with spaces to exactly `w` columns (cut at the end with "…" when longer).
pub fn pad(s: &str, w: usize) -> String {
    let t = end(s, w);
    let n = width(&t);
    format!("{t}{}", " ".repeat(w - n))
}

/// Words of `text` in lines of at most `w` columns; a longer word (a digest, a path) is split,
/// never cut.
pub fn wrap(text: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let (cl, wl) = (width(&cur), width(word));
        if cl > 0 && cl + 1 + wl > w {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        while width(&cur) > w {
            let head: String = cur.chars().take(w).collect();
            cur = cur.chars().skip(w).collect();
            out.push(head);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_show_a_sign_and_keep_the_file_name() {
        assert_eq!(end("abcdef", 6), "abcdef");
        assert_eq!(end("abcdef", 4), "abc…");
        assert_eq!(end("abcdef", 0), "");
        let p = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en";
        let m = middle(p, 40);
        assert_eq!(width(&m), 40);
        assert!(m.ends_with("Translation-en"), "{m}");
        assert!(m.starts_with("/var"), "{m}");
        assert!(m.contains('…'));
        // two paths that differ only at their end stay apart
        let q = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages";
        assert_ne!(middle(p, 40), middle(q, 40));
        assert_eq!(middle("/a/b", 10), "/a/b");
        assert_eq!(pad("ab", 4), "ab  ");
    }

    #[test]
    fn wrap_keeps_words_and_splits_only_longer_ones() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert!(wrap("", 4).is_empty());
    }
}
