//! The explorer's file viewer: `Enter` or `v` on a file. Text with line numbers and search,
//! binary as a hex dump under a header (size, type sniffed from the bytes, the ELF facts the
//! load captured), `d` a coloured unified diff from the previous version, `[` `]` through
//! every version of the path across the layers.
//!
//! Large files page lazily: the viewer holds the rows on screen plus a bounded read-ahead
//! ([`Page::window`]), never the file. Moving forward reads on; moving back seeks (an
//! uncompressed layer), decodes from the nearest access point (a compressed one), or, when
//! there is none near, seeks in the copy the first read kept on disk
//! ([`crate::source::spool`]), so going back never decodes a layer on the UI thread. A line longer
//! than [`MAX_ROW`] bytes is shown in rows of that many bytes, so a file with no newline pages
//! like any other. Line numbers are counted as the viewer moves; a jump past bytes it has not
//! read (End, a search far ahead) counts them only up to [`COUNT_LINES_MAX`] bytes, and
//! shows byte offsets beyond.
//!
//! Every byte shown goes through [`crate::contents::escape_text`]: escape sequences and
//! control characters appear escaped, invalid UTF-8 as `\xNN`.

use super::keys::Action;
use super::state::Explorer;
use super::strings as S;
use super::theme;
use crate::analysis::capture::ElfFacts;
use crate::contents::{self, FileVersion, Files};
use crate::image::EntryKind;
use crate::paths::NodeId;
use crate::source::access::{EntryReader, LayerFiles, Wanted};
use crate::source::refetch::Activity;
use crate::tree::{entry_of, ChangeMark};
use crate::units::human_bytes;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;
use std::io::Read;
use std::sync::mpsc::{self, TryRecvError};
use std::sync::Arc;

/// A text row holds at most this many bytes: longer lines continue on the next rows.
pub const MAX_ROW: usize = 1024;
/// Bytes read beyond the rows on screen (and kept before them when moving back).
pub const READ_AHEAD: usize = 64 << 10;
/// How far back the start of a line is looked for when moving up.
const LOOKBACK: usize = 64 << 10;
/// Bytes read at once by a search or a line count (streamed: never more in memory).
const SCAN_CHUNK: usize = 256 << 10;
/// A jump counts the lines it skips (to number them) only when they are at most this long.
pub const COUNT_LINES_MAX: u64 = 16 << 20;
/// Bytes per hex dump row.
const HEX_ROW: usize = 16;

/// One version's bytes, paged: the rows on screen and a bounded read-ahead.
pub struct Page {
    reader: Option<EntryReader>,
    /// The size the entry declares.
    pub size: u64,
    /// Shown as a hex dump (a NUL in its first 8 KiB, or a known binary format).
    pub binary: bool,
    /// What the first bytes say it is: `ELF 64-bit x86-64`, `gzip`, `UTF-8 text`, …
    pub kind: String,
    /// Offset of the top row.
    pub top: u64,
    /// The line number of the top row (from 1), when the lines before it were counted.
    pub top_line: Option<u64>,
    /// The bytes kept, starting at `window_at`: never more than the rows on screen and
    /// twice [`READ_AHEAD`].
    window: Vec<u8>,
    window_at: u64,
    /// Bytes taken from the layer for this version so far (what a test checks).
    pub bytes_read: u64,
    /// The largest window held so far.
    pub peak_window: usize,
    /// A read failed (e.g. the layer ends before the size the header declares).
    pub error: Option<String>,
}

/// `d`: the diff from the previous version to this one.
pub struct DiffView {
    /// `layer N → layer M`.
    pub title: String,
    pub lines: Vec<String>,
    pub top: usize,
}

/// What the viewer shows of the selected version.
pub enum Body {
    Page(Box<Page>),
    Diff(DiffView),
    /// Not a regular file there (removed, a symlink, …), or it could not be opened.
    Message(String),
    /// A slow read under way on a worker (a layer fetched again from its registry, the image
    /// exported from its daemon, a layer decoded from its start), with its progress line.
    Waiting(Box<Waiting>),
}

/// A read on a worker thread, and what the body becomes when it is done. Dropped (the viewer
/// closed, another version asked for), it cancels the read, which stops at its next chunk.
pub struct Waiting {
    rx: mpsc::Receiver<Result<Ready, String>>,
    pub activity: Arc<Activity>,
    then: Then,
}

/// What a worker hands back.
enum Ready {
    /// The version's reader, and why it could not be kept on disk (then going back reads
    /// the layer again).
    Reader(EntryReader, Option<String>),
    /// Both sides of a diff.
    Sides(Vec<u8>, Vec<u8>),
}

/// What the body becomes.
enum Then {
    Page(FileVersion),
    Diff {
        old: Option<FileVersion>,
        new: Option<FileVersion>,
    },
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.activity.cancel();
    }
}

impl Waiting {
    /// Run `work` on a new thread, told the activity it reports into.
    fn start(
        then: Then,
        work: impl FnOnce(&Arc<Activity>) -> Result<Ready, String> + Send + 'static,
    ) -> Box<Waiting> {
        let activity = Activity::new();
        let (tx, rx) = mpsc::channel();
        let a = activity.clone();
        std::thread::spawn(move || {
            let _ = tx.send(work(&a));
        });
        Box::new(Waiting { rx, activity, then })
    }

    /// The line the body shows meanwhile.
    pub fn line(&self) -> String {
        self.activity
            .line()
            .unwrap_or_else(|| S::VIEW_READING.to_string())
    }
}

pub struct Viewer {
    pub node: NodeId,
    pub path: String,
    /// Every version of the path, in layer order; `at` is the one shown.
    pub versions: Vec<FileVersion>,
    pub at: usize,
    pub body: Body,
    /// The search being typed (None: not typing).
    pub search_input: Option<String>,
    /// The last search, for `n` and `N`.
    pub pattern: Option<String>,
    /// Where the last search found it.
    pub found: Option<u64>,
    /// A note for the key bar (not found, no earlier version, …).
    pub note: Option<String>,
    /// Rows and columns of the body on screen.
    pub view_h: usize,
    pub view_w: usize,
    /// Columns scrolled to the right.
    pub col: usize,
    /// What is on screen, laid out by [`Viewer::refresh`] after every change, so drawing
    /// reads nothing.
    pub lines: Vec<Line<'static>>,
}

impl Viewer {
    /// Open `node` at the version visible at `layer` (the last one before it when none is).
    pub fn open(files: Files<'_>, node: NodeId, layer: usize, size: Rect) -> Viewer {
        let versions = files.versions(node);
        let at = versions.iter().rposition(|v| v.layer <= layer).unwrap_or(0);
        let mut v = Viewer {
            node,
            path: files.image.paths.path(node),
            versions,
            at,
            body: Body::Message(String::new()),
            search_input: None,
            pattern: None,
            found: None,
            note: None,
            view_h: 1,
            view_w: 1,
            col: 0,
            lines: Vec::new(),
        };
        v.set_size(size);
        v.load(files);
        v.refresh(files);
        v
    }

    /// Fetch what is on screen and lay it out (the one place the viewer reads for drawing).
    pub fn refresh(&mut self, files: Files<'_>) {
        self.lines = prepare(self, files);
    }

    /// The body's rows and columns for a screen of `size` (header, border and key bar off).
    pub fn set_size(&mut self, size: Rect) {
        let b = body_area(size);
        self.view_h = b.height.max(1) as usize;
        self.view_w = b.width.max(1) as usize;
    }

    /// The version shown.
    pub fn version(&self) -> Option<&FileVersion> {
        self.versions.get(self.at)
    }

    /// Show version `at` from its start.
    fn load(&mut self, files: Files<'_>) {
        self.found = None;
        self.col = 0;
        let Some(v) = self.versions.get(self.at).cloned() else {
            self.body = Body::Message(S::VIEW_NO_VERSION.to_string());
            return;
        };
        let w = match files.locate(self.node, &v) {
            Ok(w) => w,
            Err(e) => {
                self.body = Body::Message(e.to_string());
                return;
            }
        };
        if !files.layers.is_quick(&w) {
            let layers = files.layers.clone();
            self.body = Body::Waiting(Waiting::start(Then::Page(v), move |a| {
                // kept on disk when reading it again would be as slow: going back, searching,
                // stepping through versions then read the copy, never the layer
                layers
                    .entry_kept(&w, a)
                    .map(|(r, note)| Ready::Reader(r, note))
                    .map_err(|e| e.to_string())
            }));
            return;
        }
        self.body = match files.layers.entry_watched(&w, &Activity::new()) {
            Ok(r) => Body::Page(Box::new(Page::new(files, self.node, &v, r))),
            Err(e) => Body::Message(e.to_string()),
        };
    }

    /// Is a read under way on a worker?
    pub fn waiting(&self) -> bool {
        matches!(self.body, Body::Waiting(_))
    }

    /// Take the worker's result when it is there, and lay out the screen again (its progress
    /// line moves meanwhile). True: the screen changed.
    pub fn poll(&mut self, files: Files<'_>) -> bool {
        let Body::Waiting(w) = &self.body else {
            return false;
        };
        let done = match w.rx.try_recv() {
            Err(TryRecvError::Empty) => None,
            Ok(r) => Some(r),
            Err(TryRecvError::Disconnected) => Some(Err(S::VIEW_READ_STOPPED.to_string())),
        };
        if let Some(r) = done {
            let Body::Waiting(w) = std::mem::replace(&mut self.body, Body::Message(String::new()))
            else {
                return false;
            };
            self.body = self.finish(files, r, &w.then);
        }
        self.refresh(files);
        true
    }

    /// The body a finished read makes.
    fn finish(&self, files: Files<'_>, r: Result<Ready, String>, then: &Then) -> Body {
        match (r, then) {
            (Err(e), _) => Body::Message(e),
            (Ok(Ready::Reader(r, note)), Then::Page(v)) => {
                let mut p = Page::new(files, self.node, v, r);
                p.error = p.error.or(note);
                Body::Page(Box::new(p))
            }
            (Ok(Ready::Sides(a, b)), Then::Diff { old, new }) => {
                let path = files.image.paths.path(self.node);
                let (old, new) = (old.as_ref(), new.as_ref());
                let text = contents::unified_diff(
                    &path,
                    (&contents::version_label(old), &a),
                    (&contents::version_label(new), &b),
                );
                diff_body(old, new, text)
            }
            _ => Body::Message(S::VIEW_READ_STOPPED.to_string()),
        }
    }

    /// Apply a key's action; `files` reads the bytes it brings on screen.
    pub fn update(&mut self, files: Files<'_>, action: Action) {
        self.apply(files, action);
        self.refresh(files);
    }

    fn apply(&mut self, files: Files<'_>, action: Action) {
        self.note = None;
        if let Some(input) = self.search_input.as_mut() {
            match action {
                Action::FilterInput(c) => input.push(c),
                Action::FilterBackspace => {
                    input.pop();
                }
                Action::FilterCancel => self.search_input = None,
                Action::FilterDone => {
                    let p = self.search_input.take().unwrap_or_default();
                    if !p.is_empty() {
                        self.pattern = Some(p);
                        self.found = None;
                        self.search(files, true);
                    }
                }
                _ => {}
            }
            return;
        }
        match action {
            Action::ViewerSearch => self.search_input = Some(String::new()),
            Action::SearchNext => self.search(files, true),
            Action::SearchPrev => self.search(files, false),
            Action::PrevVersion | Action::NextVersion => {
                let next = action == Action::NextVersion;
                let to = if next {
                    Some(self.at + 1).filter(|&i| i < self.versions.len())
                } else {
                    self.at.checked_sub(1)
                };
                match to {
                    Some(i) => {
                        let diff = matches!(self.body, Body::Diff(_));
                        self.at = i;
                        self.load(files);
                        if diff {
                            self.toggle_diff(files);
                        }
                    }
                    None if next => self.note = Some(S::VIEW_LAST_VERSION.to_string()),
                    None => self.note = Some(S::VIEW_FIRST_VERSION.to_string()),
                }
            }
            Action::ViewerDiff => self.toggle_diff(files),
            Action::Left => self.col = self.col.saturating_sub(8),
            Action::Right => self.col = (self.col + 8).min(MAX_ROW * 4),
            _ => self.move_action(files, action),
        }
    }

    fn move_action(&mut self, files: Files<'_>, action: Action) {
        let h = self.view_h;
        let page = h.saturating_sub(1).max(1);
        match &mut self.body {
            Body::Page(p) => {
                let node = self.node;
                let v = self.versions.get(self.at).cloned();
                let Some(v) = v else { return };
                let mut io = Io { files, node, v: &v };
                match action {
                    Action::Up => p.up(&mut io, 1),
                    Action::Down => p.down(&mut io, 1, h),
                    Action::PageUp => p.up(&mut io, page),
                    Action::PageDown => p.down(&mut io, page, h),
                    Action::Home => {
                        p.top = 0;
                        p.top_line = Some(1);
                    }
                    Action::End => p.end(&mut io, h),
                    _ => {}
                }
            }
            Body::Diff(d) => {
                let max = d.lines.len().saturating_sub(h);
                d.top = match action {
                    Action::Up => d.top.saturating_sub(1),
                    Action::Down => d.top + 1,
                    Action::PageUp => d.top.saturating_sub(page),
                    Action::PageDown => d.top + page,
                    Action::Home => 0,
                    Action::End => max,
                    _ => d.top,
                }
                .min(max);
            }
            Body::Message(_) | Body::Waiting(_) => {}
        }
    }

    /// `d`: the diff from the previous version to this one; again: the contents.
    fn toggle_diff(&mut self, files: Files<'_>) {
        if matches!(self.body, Body::Diff(_)) {
            self.load(files);
            return;
        }
        let new = self.versions.get(self.at);
        let old = self.at.checked_sub(1).and_then(|i| self.versions.get(i));
        let sides = files
            .diff_side(self.node, old)
            .and_then(|a| Ok((a, files.diff_side(self.node, new)?)));
        let (a, b) = match sides {
            Ok(s) => s,
            Err(e) => {
                self.body = Body::Message(e.to_string());
                return;
            }
        };
        let quick = [&a, &b]
            .iter()
            .all(|s| s.as_ref().is_none_or(|w| files.layers.is_quick(w)));
        if !quick {
            let layers = files.layers.clone();
            let then = Then::Diff {
                old: old.cloned(),
                new: new.cloned(),
            };
            self.body = Body::Waiting(Waiting::start(then, move |act| {
                let side = |w: &Option<Wanted>| contents::side_bytes(&layers, w.as_ref(), act);
                side(&a)
                    .and_then(|a| Ok(Ready::Sides(a, side(&b)?)))
                    .map_err(|e| e.to_string())
            }));
            return;
        }
        self.body = match files.diff(self.node, old, new) {
            Ok(text) => diff_body(old, new, text),
            Err(e) => Body::Message(e.to_string()),
        };
    }

    /// Find the pattern after the top row (`forward`) or before it, and bring it to the top.
    fn search(&mut self, files: Files<'_>, forward: bool) {
        let Some(pat) = self.pattern.clone() else {
            self.note = Some(S::VIEW_NO_SEARCH.to_string());
            return;
        };
        let Body::Page(p) = &mut self.body else {
            return;
        };
        let Some(v) = self.versions.get(self.at).cloned() else {
            return;
        };
        let mut io = Io {
            files,
            node: self.node,
            v: &v,
        };
        let from = match self.found {
            Some(f) if f >= p.top => f + 1,
            _ => p.top,
        };
        let hit = if forward {
            p.find_forward(&mut io, pat.as_bytes(), from)
        } else {
            p.find_backward(&mut io, pat.as_bytes(), self.found.unwrap_or(p.top))
        };
        match hit {
            Some(at) => {
                self.found = Some(at);
                p.show(&mut io, at);
            }
            None => {
                self.note = Some(S::fill(S::VIEW_NOT_FOUND, &[("pattern", &pat)]));
            }
        }
    }
}

/// `d`'s body: the diff `text` from `old` to `new`, titled by their layers.
fn diff_body(old: Option<&FileVersion>, new: Option<&FileVersion>, text: String) -> Body {
    let title = format!(
        "{} → {}",
        contents::version_label(old),
        contents::version_label(new)
    );
    let lines = if text.is_empty() {
        vec![S::VIEW_DIFF_SAME.to_string()]
    } else {
        text.lines().map(str::to_string).collect()
    };
    Body::Diff(DiffView {
        title,
        lines,
        top: 0,
    })
}

/// How a page reads its version again (to go back on a compressed layer).
struct Io<'a, 'f> {
    files: Files<'f>,
    node: NodeId,
    v: &'a FileVersion,
}

impl Io<'_, '_> {
    fn reopen(&self) -> Result<EntryReader, String> {
        self.files
            .read(self.node, self.v)
            .map_err(|e| e.to_string())
    }
}

impl Page {
    fn new(files: Files<'_>, node: NodeId, v: &FileVersion, reader: EntryReader) -> Page {
        let mut p = Page {
            size: reader.size(),
            reader: Some(reader),
            binary: false,
            kind: String::new(),
            top: 0,
            top_line: Some(1),
            window: Vec::new(),
            window_at: 0,
            bytes_read: 0,
            peak_window: 0,
            error: None,
        };
        let mut io = Io { files, node, v };
        let head = p.fetch(&mut io, 0, 8192).to_vec();
        let (kind, binary) = sniff(&head);
        p.binary = binary;
        p.kind = kind;
        if head.starts_with(b"\x7fELF") {
            let facts = files
                .image
                .captured(v.layer, node)
                .and_then(ElfFacts::decode);
            if let Some(f) = facts {
                p.kind.push_str(&elf_facts(&f));
            }
        }
        p
    }

    /// The bytes `at..at+len` (clipped to the size), read when the window does not hold
    /// them: forward from where the reader stands, else by seeking or reading again.
    fn fetch(&mut self, io: &mut Io, at: u64, len: usize) -> &[u8] {
        let at = at.min(self.size);
        let end = (at + len as u64).min(self.size);
        let have_end = self.window_at + self.window.len() as u64;
        if at >= self.window_at && end <= have_end {
            let a = (at - self.window_at) as usize;
            return &self.window[a..a + (end - at) as usize];
        }
        // moving back keeps some bytes before `at` too, so the next steps up are in memory
        let start = if at < self.window_at {
            at.saturating_sub(READ_AHEAD as u64)
        } else {
            at
        };
        let want_end = (end + READ_AHEAD as u64).min(self.size);
        // bytes of the old window that the new one keeps (scrolling forward)
        let keep_from = start.max(self.window_at);
        let mut window = Vec::with_capacity((want_end - start) as usize);
        let mut next = start;
        if start >= self.window_at && start < have_end {
            window.extend_from_slice(&self.window[(keep_from - self.window_at) as usize..]);
            next = have_end;
        }
        self.window = Vec::new();
        if next < want_end {
            if let Err(e) = self.read_into(io, next, want_end, &mut window) {
                self.error = Some(e);
            }
        }
        self.window = window;
        self.window_at = start;
        self.peak_window = self.peak_window.max(self.window.len());
        let have_end = self.window_at + self.window.len() as u64;
        let (a, b) = (at.min(have_end), end.min(have_end));
        let off = (a - self.window_at) as usize;
        &self.window[off..off + (b - a) as usize]
    }

    /// Put the reader at `pos`: a seek, a read forward, or the entry opened again.
    fn position(&mut self, io: &mut Io, pos: u64) -> Result<&mut EntryReader, String> {
        let ok = match self.reader.as_mut() {
            Some(r) if r.position() == pos => true,
            Some(r) => {
                let before = r.position();
                let done = r.seek_to(pos).map_err(|e| e.to_string())?;
                if done && !r.seekable() {
                    self.bytes_read += pos.saturating_sub(before);
                }
                done
            }
            None => false,
        };
        if !ok {
            let mut r = io.reopen()?;
            r.seek_to(pos).map_err(|e| e.to_string())?;
            if !r.seekable() {
                self.bytes_read += pos;
            }
            self.reader = Some(r);
        }
        self.reader.as_mut().ok_or_else(|| "no reader".to_string())
    }

    /// Append the bytes `from..to` to `out`.
    fn read_into(
        &mut self,
        io: &mut Io,
        from: u64,
        to: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let r = self.position(io, from)?;
        let n = r
            .take(to - from)
            .read_to_end(out)
            .map_err(|e| e.to_string())?;
        self.bytes_read += n as u64;
        Ok(())
    }

    /// Stream `from..to` in chunks (overlapping by `overlap` bytes) through `f(offset, bytes)`
    /// until it returns false. Holds one chunk, not the range.
    fn scan(
        &mut self,
        io: &mut Io,
        from: u64,
        to: u64,
        overlap: usize,
        mut f: impl FnMut(u64, &[u8]) -> bool,
    ) {
        let mut at = from;
        let mut buf: Vec<u8> = Vec::with_capacity(SCAN_CHUNK + overlap);
        let mut buf_at = from;
        while at < to {
            let n = (SCAN_CHUNK as u64).min(to - at);
            if let Err(e) = self.read_into(io, at, at + n, &mut buf) {
                self.error = Some(e);
                return;
            }
            if !f(buf_at, &buf) {
                return;
            }
            at += n;
            let keep = overlap.min(buf.len());
            buf.drain(..buf.len() - keep);
            buf_at = at - keep as u64;
        }
    }

    /// Is `pos` the start of a line (not the continuation of a long one)?
    fn line_start(&mut self, io: &mut Io, pos: u64) -> bool {
        pos == 0 || self.fetch(io, pos - 1, 1) == b"\n"
    }

    /// The rows from `top` on: (start, end, ends a line), at most `n`.
    fn rows(&mut self, io: &mut Io, n: usize) -> Vec<(u64, u64, bool)> {
        if self.binary {
            let mut out = Vec::new();
            let mut at = self.top;
            while out.len() < n && at < self.size {
                let e = (at + HEX_ROW as u64).min(self.size);
                out.push((at, e, true));
                at = e;
            }
            return out;
        }
        let top = self.top;
        let bytes = self.fetch(io, top, n * (MAX_ROW + 1));
        let mut out = Vec::new();
        let mut i = 0;
        while out.len() < n && i < bytes.len() {
            let look = &bytes[i..bytes.len().min(i + MAX_ROW + 1)];
            match memchr::memchr(b'\n', look) {
                Some(j) => {
                    out.push((top + i as u64, top + (i + j) as u64, true));
                    i += j + 1;
                }
                None => {
                    let j = look.len().min(MAX_ROW);
                    out.push((top + i as u64, top + (i + j) as u64, false));
                    i += j;
                }
            }
        }
        out
    }

    fn down(&mut self, io: &mut Io, n: usize, view_h: usize) {
        let rows = self.rows(io, n + view_h);
        // stop once the last row is on screen
        let steps = n.min(rows.len().saturating_sub(view_h));
        for &(_, end, nl) in rows.iter().take(steps) {
            self.top = if self.binary || !nl { end } else { end + 1 };
            if nl && !self.binary {
                self.top_line = self.top_line.map(|l| l + 1);
            }
        }
    }

    fn up(&mut self, io: &mut Io, n: usize) {
        for _ in 0..n {
            if self.top == 0 {
                return;
            }
            if self.binary {
                self.top = self.top.saturating_sub(HEX_ROW as u64);
                continue;
            }
            let (prev, new_line) = self.prev_row(io, self.top);
            self.top = prev;
            if new_line {
                self.top_line = self.top_line.map(|l| l.saturating_sub(1).max(1));
            }
        }
    }

    /// The row before the one starting at `pos`, and whether `pos` starts a line (so the
    /// row before is on the line above).
    fn prev_row(&mut self, io: &mut Io, pos: u64) -> (u64, bool) {
        let at_line_start = self.line_start(io, pos);
        (self.row_start_of(io, pos.saturating_sub(1)), at_line_start)
    }

    /// Where the row holding byte `at` starts: its line's start, then steps of [`MAX_ROW`]
    /// (a line's newline belongs to its last row).
    fn row_start_of(&mut self, io: &mut Io, at: u64) -> u64 {
        let back = (at as usize).min(LOOKBACK) as u64;
        let chunk_at = at - back;
        let chunk = self.fetch(io, chunk_at, back as usize + 1);
        let is_nl = chunk.last() == Some(&b'\n') && chunk.len() as u64 == back + 1;
        let before = &chunk[..chunk.len().min(back as usize)];
        let ls = match memchr::memrchr(b'\n', before) {
            Some(i) => chunk_at + i as u64 + 1,
            None if chunk_at == 0 => 0,
            // a line longer than the look-back: rows counted from the look-back's start
            None => chunk_at,
        };
        let m = MAX_ROW as u64;
        let len = at - ls;
        if is_nl {
            ls + (len.max(1) - 1) / m * m
        } else {
            ls + len / m * m
        }
    }

    /// The last screenful. The bytes on the way are read once (counting their lines when
    /// the top's number is known and they are at most [`COUNT_LINES_MAX`]); the tail is then
    /// in memory for the steps up.
    fn end(&mut self, io: &mut Io, view_h: usize) {
        if self.binary {
            let rows = self.size.div_ceil(HEX_ROW as u64);
            self.top = rows.saturating_sub(view_h as u64) * HEX_ROW as u64;
            return;
        }
        if self.size == 0 {
            return;
        }
        let tail = self.size.saturating_sub(2 * LOOKBACK as u64).max(self.top);
        let mut line = match self.top_line {
            Some(l) if tail - self.top <= COUNT_LINES_MAX => {
                let mut n = l;
                let from = self.top;
                self.scan(io, from, tail, 0, |_, b| {
                    n += memchr::memchr_iter(b'\n', b).count() as u64;
                    true
                });
                Some(n)
            }
            _ => None,
        };
        // the tail in memory (the reader stands at `tail` after the count)
        self.fetch(io, tail, (self.size - tail) as usize);
        let (last, _) = self.prev_row(io, self.size);
        self.top = last;
        self.top_line = None;
        self.up(io, view_h.saturating_sub(1));
        // the lines from `tail` to the new top: in memory
        if let Some(n) = line.as_mut() {
            let (from, to) = (tail.min(self.top), self.top);
            *n += memchr::memchr_iter(b'\n', self.fetch(io, from, (to - from) as usize)).count()
                as u64;
        }
        self.top_line = line;
    }

    /// The line number at `pos`, when counting the lines before it reads at most
    /// [`COUNT_LINES_MAX`] bytes.
    fn count_line(&mut self, io: &mut Io, pos: u64) -> Option<u64> {
        if pos > COUNT_LINES_MAX {
            return None;
        }
        let mut n = 1u64;
        self.scan(io, 0, pos, 0, |_, b| {
            n += memchr::memchr_iter(b'\n', b).count() as u64;
            true
        });
        Some(n)
    }

    /// Bring the row holding byte `at` to the top, counting the lines on the way when the
    /// top's number is known and `at` is after it.
    fn show(&mut self, io: &mut Io, at: u64) {
        if self.binary {
            self.top = at / HEX_ROW as u64 * HEX_ROW as u64;
            return;
        }
        let row = self.row_start_of(io, at);
        let line = match self.top_line {
            Some(l) if row >= self.top && row - self.top <= COUNT_LINES_MAX => {
                let mut n = l;
                let from = self.top;
                self.scan(io, from, row, 0, |_, b| {
                    n += memchr::memchr_iter(b'\n', b).count() as u64;
                    true
                });
                Some(n)
            }
            _ => self.count_line(io, row),
        };
        self.top = row;
        self.top_line = line;
    }

    fn find_forward(&mut self, io: &mut Io, pat: &[u8], from: u64) -> Option<u64> {
        let mut hit = None;
        let finder = memchr::memmem::Finder::new(pat);
        let size = self.size;
        self.scan(io, from, size, pat.len().saturating_sub(1), |at, b| {
            hit = finder.find(b).map(|i| at + i as u64);
            hit.is_none()
        });
        hit
    }

    /// The last match that starts before `before`: the entry is read from its start (one
    /// pass, one chunk in memory).
    fn find_backward(&mut self, io: &mut Io, pat: &[u8], before: u64) -> Option<u64> {
        let mut hit = None;
        let finder = memchr::memmem::Finder::new(pat);
        let to = (before + pat.len() as u64).saturating_sub(1).min(self.size);
        self.scan(io, 0, to, pat.len().saturating_sub(1), |at, b| {
            for i in finder.find_iter(b) {
                let h = at + i as u64;
                if h < before {
                    hit = Some(h);
                }
            }
            true
        });
        hit
    }

    /// The bytes held in memory now.
    pub fn resident(&self) -> usize {
        self.window.capacity()
    }
}

/// What the first bytes say a file is, and whether it is shown as a hex dump.
pub fn sniff(head: &[u8]) -> (String, bool) {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x1f\x8b", "gzip"),
        (b"PK\x03\x04", "zip"),
        (b"PK\x05\x06", "zip (empty)"),
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"%PDF-", "PDF document"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"BZh", "bzip2"),
        (b"SQLite format 3\x00", "SQLite database"),
        (b"\x00asm", "WebAssembly"),
        (b"\xca\xfe\xba\xbe", "Java class or Mach-O universal"),
        (b"\xcf\xfa\xed\xfe", "Mach-O 64-bit"),
        (b"!<arch>\n", "ar archive"),
        (b"RIFF", "RIFF (WAV, AVI, WebP)"),
    ];
    if head.starts_with(b"\x7fELF") {
        return (elf_kind(head), true);
    }
    if let Some((_, name)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return (name.to_string(), true);
    }
    if head.get(257..262) == Some(b"ustar") {
        return ("tar archive".to_string(), true);
    }
    if contents::is_binary(head) {
        return ("data".to_string(), true);
    }
    let kind = if head.starts_with(b"#!") {
        let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
        let line = &line[..line.len().min(60)];
        format!("script ({})", contents::escape_text(line))
    } else if head.is_ascii() {
        "ASCII text".to_string()
    } else if std::str::from_utf8(head).is_ok() || head.len() >= 8192 {
        // a long head may end in the middle of a character
        "UTF-8 text".to_string()
    } else {
        "text (not UTF-8)".to_string()
    };
    (kind, false)
}

/// `ELF 64-bit LSB x86-64`, from the identification bytes and `e_machine`.
fn elf_kind(h: &[u8]) -> String {
    let bits = match h.get(4) {
        Some(1) => "32-bit",
        Some(2) => "64-bit",
        _ => "?-bit",
    };
    let le = h.get(5) == Some(&1);
    let m = h.get(18..20).map(|b| {
        if le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        }
    });
    let arch = match m {
        Some(3) => "x86".to_string(),
        Some(62) => "x86-64".to_string(),
        Some(40) => "ARM".to_string(),
        Some(183) => "AArch64".to_string(),
        Some(243) => "RISC-V".to_string(),
        Some(8) => "MIPS".to_string(),
        Some(21) => "PowerPC64".to_string(),
        Some(22) => "S/390".to_string(),
        Some(n) => format!("machine {n}"),
        None => "?".to_string(),
    };
    format!("ELF {bits} {} {arch}", if le { "LSB" } else { "MSB" })
}

/// ` · interp /lib/ld… · needs libc.so.6, … · soname …`: what the load captured.
fn elf_facts(f: &ElfFacts) -> String {
    let mut s = String::new();
    match &f.interp {
        Some(i) => s.push_str(&format!(" · interp {i}")),
        None if f.needed.is_empty() => s.push_str(" · static"),
        None => {}
    }
    if !f.needed.is_empty() {
        s.push_str(&format!(" · needs {}", f.needed.join(", ")));
    }
    if let Some(so) = &f.soname {
        s.push_str(&format!(" · soname {so}"));
    }
    if !f.runpath.is_empty() {
        s.push_str(&format!(" · runpath {}", f.runpath.join(":")));
    }
    s
}

/// The viewer's frame: the whole screen but the key bar.
pub fn area(size: Rect) -> Rect {
    Rect::new(
        size.x,
        size.y,
        size.width,
        size.height.saturating_sub(1).max(1),
    )
}

/// Where the rows go: inside the border, below the header line.
fn body_area(size: Rect) -> Rect {
    let a = area(size);
    Rect::new(
        a.x + 1,
        a.y + 2,
        a.width.saturating_sub(2),
        a.height.saturating_sub(3),
    )
}

/// Contents made fit for a row: escaped, tabs as spaces, scrolled by `col`, cut to `w`.
fn shown_row(bytes: &[u8], col: usize, w: usize) -> String {
    let text = contents::escape_text(bytes);
    let mut out: Vec<char> = Vec::new();
    let mut x = 0usize;
    let mut more = false;
    for c in text.chars() {
        let cells = if c == '\t' { 8 - x % 8 } else { 1 };
        for _ in 0..cells {
            if x >= col + w {
                more = true;
                break;
            }
            if x >= col {
                out.push(if c == '\t' { ' ' } else { c });
            }
            x += 1;
        }
        if more {
            break;
        }
    }
    // a row cut at either side says so (the text goes on: scroll with ← →)
    if more {
        if let Some(last) = out.last_mut() {
            *last = '…';
        }
    }
    if col > 0 && x > col {
        if let Some(first) = out.first_mut() {
            *first = '…';
        }
    }
    out.into_iter().collect()
}

/// Draw the viewer over the explorer (everything but the key bar). Reads nothing: the rows
/// were fetched by the last update ([`Viewer::refresh`]).
pub fn render(f: &mut Frame, size: Rect, v: &Viewer) {
    let a = area(size);
    let ver = v.version();
    let title = format!(
        " {} · {} ",
        crate::text_fit::escape_controls(&contents::escape_text(v.path.as_bytes())),
        S::fill(
            S::VIEW_VERSION,
            &[
                ("layer", &ver.map_or("?".into(), |v| v.layer.to_string())),
                ("i", &(v.at + 1).to_string()),
                ("n", &v.versions.len().to_string()),
            ]
        )
    );
    let title = crate::text_fit::truncate(&title, a.width.saturating_sub(2) as usize);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border(true))
        .title(title);
    let inner = block.inner(a);
    f.render_widget(Clear, a);
    f.render_widget(block, a);
    let header = header_line(v, inner.width as usize);
    f.render_widget(
        Paragraph::new(header),
        Rect::new(inner.x, inner.y, inner.width, 1.min(inner.height)),
    );
    let body = body_area(size);
    f.render_widget(Paragraph::new(v.lines.clone()), body);
}

fn header_line(v: &Viewer, w: usize) -> Line<'static> {
    let text = match &v.body {
        Body::Page(p) => {
            let mut s = format!("{} · {}", human_bytes(p.size), p.kind);
            if let Some(e) = &p.error {
                s = format!("{s} · {e}");
            }
            s
        }
        Body::Diff(d) => S::fill(S::VIEW_DIFF_TITLE, &[("title", &d.title)]),
        Body::Message(_) | Body::Waiting(_) => String::new(),
    };
    let text = match &v.search_input {
        Some(i) => format!(
            "{}{}",
            S::VIEW_SEARCH_PROMPT,
            contents::escape_text(i.as_bytes())
        ),
        None => text,
    };
    let style = match &v.body {
        Body::Page(p) if p.error.is_some() => theme::warn(),
        _ => theme::header(),
    };
    Line::styled(crate::text_fit::truncate(&text, w), style)
}

/// Fetch what is on screen and lay it out as lines.
fn prepare(v: &mut Viewer, files: Files<'_>) -> Vec<Line<'static>> {
    let (h, w) = (v.view_h, v.view_w);
    match &mut v.body {
        Body::Message(m) => vec![Line::styled(
            crate::text_fit::escape_controls(&contents::escape_text(m.as_bytes())).into_owned(),
            theme::warn(),
        )],
        Body::Waiting(wt) => vec![Line::styled(
            crate::text_fit::escape_controls(&contents::escape_text(wt.line().as_bytes()))
                .into_owned(),
            theme::label(),
        )],
        Body::Diff(d) => d
            .lines
            .iter()
            .skip(d.top)
            .take(h)
            .map(|l| {
                let style = match l.as_bytes().first() {
                    _ if l.starts_with("+++") || l.starts_with("---") => theme::header(),
                    Some(b'+') => theme::mark(ChangeMark::Added),
                    Some(b'-') => theme::mark(ChangeMark::Removed),
                    Some(b'@') => theme::label(),
                    _ => Style::new(),
                };
                Line::styled(shown_row(l.as_bytes(), v.col, w), style)
            })
            .collect(),
        Body::Page(p) => {
            let Some(ver) = v.versions.get(v.at).cloned() else {
                return Vec::new();
            };
            let mut io = Io {
                files,
                node: v.node,
                v: &ver,
            };
            page_lines(p, &mut io, h, w, v.col, v.pattern.as_deref(), v.found)
        }
    }
}

fn page_lines(
    p: &mut Page,
    io: &mut Io,
    h: usize,
    w: usize,
    col: usize,
    pattern: Option<&str>,
    found: Option<u64>,
) -> Vec<Line<'static>> {
    let rows = p.rows(io, h);
    let mut out = Vec::new();
    if p.binary {
        for (s, e, _) in rows {
            let bytes = p.fetch(io, s, (e - s) as usize).to_vec();
            let hit = found.is_some_and(|f| f >= s && f < e);
            out.push(hex_line(s, &bytes, hit));
        }
        return out;
    }
    let gutter = p
        .top_line
        .map_or(8, |l| (l + h as u64).to_string().len().max(4));
    let mut line = p.top_line;
    let mut new_line = p.top == 0 || p.fetch(io, p.top - 1, 1) == b"\n";
    for (s, e, nl) in rows {
        let bytes = p.fetch(io, s, (e - s) as usize).to_vec();
        let num = match (new_line, line) {
            (true, Some(l)) => format!("{l:>gutter$} "),
            (true, None) => format!("{:>gutter$} ", format!("+{s:x}")),
            (false, _) => format!("{:>gutter$} ", "↪"),
        };
        let text = shown_row(&bytes, col, w.saturating_sub(gutter + 1));
        let mut spans = vec![Span::styled(num, theme::dim())];
        spans.extend(highlight(
            &text,
            pattern,
            found.is_some_and(|f| f >= s && f <= e),
        ));
        out.push(Line::from(spans));
        if nl {
            line = line.map(|l| l + 1);
        }
        new_line = nl;
    }
    if p.size == 0 {
        out.push(Line::styled(S::VIEW_EMPTY, theme::dim()));
    }
    out
}

/// The row's text with each match of the search in the label colour (reversed on the row
/// the search stopped at).
fn highlight(text: &str, pattern: Option<&str>, current: bool) -> Vec<Span<'static>> {
    let pat = pattern.map(|p| contents::escape_text(p.as_bytes()));
    let Some(pat) = pat.filter(|p| !p.is_empty()) else {
        return vec![Span::raw(text.to_string())];
    };
    let style = if current {
        theme::selected(true)
    } else {
        theme::label()
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(pat.as_str()) {
        out.push(Span::raw(rest[..i].to_string()));
        out.push(Span::styled(pat.clone(), style));
        rest = &rest[i + pat.len()..];
    }
    out.push(Span::raw(rest.to_string()));
    out
}

/// `00000010  68 65 6c 6c 6f 0a 00 …  |hello..|`
fn hex_line(at: u64, bytes: &[u8], hit: bool) -> Line<'static> {
    let mut hex = String::with_capacity(HEX_ROW * 3 + 1);
    for i in 0..HEX_ROW {
        match bytes.get(i) {
            Some(b) => hex.push_str(&format!("{b:02x} ")),
            None => hex.push_str("   "),
        }
        if i == 7 {
            hex.push(' ');
        }
    }
    let ascii: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    let off_style = if hit {
        theme::selected(true)
    } else {
        theme::dim()
    };
    Line::from(vec![
        Span::styled(format!("{at:08x}  "), off_style),
        Span::raw(hex),
        Span::styled(format!(" |{ascii}|"), theme::label()),
    ])
}

// ---- the explorer's side: opening, keys, size (kept here, out of state.rs) ----------------

/// The layers opened for reading files, or why the viewer cannot read them.
pub type LayerFilesResult = Result<Arc<LayerFiles>, String>;

impl Explorer {
    /// The image, its tree and its layers opened for reading, once the loader sent them.
    fn files_for_viewer(&self) -> Result<Files<'_>, String> {
        match &self.layer_files {
            Some(Ok(l)) => Ok(Files {
                image: &self.image,
                tree: &self.analysis.merged,
                layers: l,
            }),
            Some(Err(e)) => Err(e.clone()),
            None => Err(S::VIEW_OPENING.to_string()),
        }
    }

    /// Split borrow: what the viewer reads with, and the open viewer.
    fn viewer_parts(&mut self) -> Option<(Files<'_>, &mut Viewer)> {
        let layers = self.layer_files.as_ref()?.as_ref().ok()?;
        let files = Files {
            image: &self.image,
            tree: &self.analysis.merged,
            layers,
        };
        Some((files, self.viewer.as_mut()?))
    }

    /// Is the tree's cursor on a file (a regular file or a hardlink) at the selected layer?
    pub fn cursor_on_file(&self) -> bool {
        let n = self.tree.cursor;
        let v = self.tree.version(self.cx(), n).filter(|v| v.present());
        v.and_then(|v| entry_of(&self.image, v))
            .is_some_and(|e| matches!(e.kind, EntryKind::File | EntryKind::Hardlink))
    }

    /// Open the viewer on the file under the cursor, at the version visible at the selected
    /// layer; a message when it cannot be.
    pub fn open_viewer(&mut self, size: Rect) -> Option<String> {
        if !self.cursor_on_file() {
            return Some(S::VIEW_NOT_FILE.to_string());
        }
        let node = self.tree.cursor;
        let layer = self
            .tree
            .version(self.cx(), node)
            .map_or(self.layer, |v| v.layer as usize);
        let v = match self.files_for_viewer() {
            Ok(files) => Viewer::open(files, node, layer, size),
            Err(e) => return Some(e),
        };
        self.viewer = Some(Box::new(v));
        None
    }

    /// A key's action while the viewer is open; a message for the key bar.
    pub fn viewer_action(&mut self, action: Action) -> Option<String> {
        if action == Action::CloseViewer {
            self.viewer = None;
            return None;
        }
        let (files, v) = self.viewer_parts()?;
        v.update(files, action);
        v.note.take()
    }

    /// Is the viewer waiting for a read on a worker (the loop must wake to poll it)?
    pub fn viewer_waiting(&self) -> bool {
        self.viewer.as_ref().is_some_and(|v| v.waiting())
    }

    /// The viewer's worker, polled: true when the screen changed.
    pub fn poll_viewer(&mut self) -> bool {
        match self.viewer_parts() {
            Some((files, v)) => v.poll(files),
            None => false,
        }
    }

    /// Remove what the viewer kept in its temporary directory (a registry's layers fetched
    /// again, a daemon's export), now: the explorer is closing.
    pub fn discard_viewer_files(&self) {
        if let Some(Ok(l)) = &self.layer_files {
            l.discard();
        }
    }

    /// The screen changed size: the viewer lays out its rows again.
    pub fn resize_viewer(&mut self, size: Rect) {
        if let Some((files, v)) = self.viewer_parts() {
            v.set_size(size);
            v.refresh(files);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats_by_their_first_bytes() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00").0, "gzip");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").0, "PNG image");
        assert_eq!(sniff(b"PK\x03\x04rest").0, "zip");
        let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        elf.resize(20, 0);
        elf[18] = 62;
        assert_eq!(sniff(&elf), ("ELF 64-bit LSB x86-64".to_string(), true));
        assert_eq!(sniff(b"hello\n"), ("ASCII text".to_string(), false));
        assert_eq!(sniff("é\n".as_bytes()).0, "UTF-8 text");
        assert_eq!(sniff(b"a\0b").0, "data");
        assert!(sniff(b"#!/bin/sh\necho").0.starts_with("script (#!/bin/sh"));
    }

    #[test]
    fn rows_expand_tabs_escape_controls_and_scroll() {
        assert_eq!(shown_row(b"a\tb", 0, 20), "a       b");
        assert_eq!(shown_row(b"\x1b[2J\xff", 0, 20), "\\x1b[2J\\xff");
        // a row cut at either side says so
        assert_eq!(shown_row(b"abcdef", 2, 3), "…d…");
        assert_eq!(shown_row(b"abcdef", 0, 3), "ab…");
        assert_eq!(shown_row(b"abc", 0, 3), "abc");
        assert_eq!(shown_row(b"abcdef", 3, 3), "…ef");
        assert_eq!(shown_row(b"ab", 3, 3), "");
    }

    #[test]
    fn a_hex_row_shows_offset_bytes_and_ascii() {
        let l = hex_line(16, b"hi\0", false);
        let s: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(s.starts_with("00000010  68 69 00 "), "{s}");
        assert!(s.ends_with(" |hi.|"), "{s}");
    }
}
