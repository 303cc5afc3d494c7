//! Laying text out in the explorer's columns: widths and word wrapping. Cutting with "…" (the
//! end of a name, the middle of a path) is `crate::text_fit`'s, shared with the reports.

/// Display columns of `s` (one per char, as `text_fit` counts them).
pub fn width(s: &str) -> usize {
    s.chars().count()
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
    fn wrap_keeps_words_and_splits_only_longer_ones() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert!(wrap("", 4).is_empty());
    }
}
