//! The interactive explorer: `bathy IMAGE` on a terminal. Loads in the background behind a
//! progress gauge until the first layer is read, then shows layers, details and the merged
//! file tree, dive's keys and more: the layers read so far while the rest load (the gauge in
//! Image details and the status line), the whole image and its analyses once they are done.
//!
//! Structure (as gitui): one file per pane (`layers`, `layer_details`, `image_details`,
//! `file_tree`, `keybar`, `help`), the key map as data (`keys`), strings in `strings`, all state
//! changes in `state::update(app, action)`, drawing from `&App` only. The loop is generic over
//! the ratatui backend and reads events from a channel, so tests drive it with `TestBackend`.
//!
//! Adding a view (e.g. "why is it big", compare): add a `Focus` variant (and a `Scope` with its
//! bindings in `keys::BINDINGS`), a file with `render(f, area, &Explorer)`, a rectangle in
//! `layout::areas`, and the view's state on `Explorer`; `update` gets its actions. A whole other
//! screen (as `compare`) is a `Screen` variant with its own module, areas and `update`, sharing
//! the key map, strings, theme, key bar, help and terminal handling.

pub mod compare;
pub mod cut;
pub mod file_tree;
pub mod help;
pub mod image_details;
pub mod keybar;
pub mod keys;
pub mod layer_details;
pub mod layers;
pub mod layout;
pub mod prefs;
pub mod state;
pub mod strings;
pub mod theme;
pub mod treeview;
pub mod viewer;
pub mod why;

use crate::analysis::why::{WhyOptions, WhyReport};
use crate::analysis::Analysis;
use crate::pipeline::{self, ComparedPair, Keep, LoadConfig, Watch, WhyArgs};
use crate::progress::Progress;
use crate::source::preview::LayerFeed;
use crate::text_fit;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::{Frame, Terminal};
use state::{App, AppEvent, Effect, Screen};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use strings as S;

/// How often the loading gauge is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Draw the whole screen from the state.
pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    match &app.screen {
        Screen::Loading { items } => draw_loading(f, area, items, app.pending_keys.len()),
        Screen::Failed(msg) => f.render_widget(Paragraph::new(msg.as_str()), area),
        Screen::Explore(ex) => {
            let a = layout::areas(area, Some(ex));
            if ex.why_open {
                why::render(f, a.why, ex);
            } else {
                layers::render(f, a.layers, ex);
                layer_details::render(f, a.layer_details, ex);
                match &ex.loading {
                    // the whole-image figures wait for the whole image: the gauge meanwhile
                    Some(l) => draw_loading_details(f, a.image_details, &ex.image.source, l),
                    None => image_details::render(f, a.image_details, ex),
                }
            }
            file_tree::render(f, a.tree, a.tree_list, ex);
            if let Some(v) = &ex.viewer {
                viewer::render(f, area, v);
            }
            keybar::render(f, a.keybar, app);
        }
        Screen::Compare(cv) => {
            compare::draw(f, area, cv);
            keybar::render(f, compare::areas(area, cv).keybar, app);
        }
    }
    if app.help {
        help::render(f, area, app.help_scopes(), app.help_scroll);
    }
}

/// Lines per image in the loading popup: its name, a gap, its gauge, a gap.
const LOADING_ITEM_H: u16 = 4;
/// Lines more for an image downloaded blob by blob (a registry's): its downloads under way.
const DOWNLOAD_ROWS: u16 = 3;

fn draw_loading(f: &mut Frame, area: Rect, items: &[(String, Arc<Progress>)], pending: usize) {
    let downloads: Vec<_> = items.iter().map(|(_, p)| p.downloads()).collect();
    let height = |d: &Vec<_>| LOADING_ITEM_H + if d.is_empty() { 0 } else { DOWNLOAD_ROWS };
    let total: u16 = downloads
        .iter()
        .map(height)
        .sum::<u16>()
        .max(LOADING_ITEM_H);
    let popup = layout::centered(area, 70, 3 + total);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(S::LOADING_TITLE);
    let inner = block.inner(popup);
    f.render_widget(block, popup);
    let mut y = inner.y;
    for ((name, progress), d) in items.iter().zip(&downloads) {
        let h = height(d) - 1;
        if y + h <= inner.y + inner.height {
            draw_gauge(f, Rect::new(inner.x, y, inner.width, h), name, progress, d);
        }
        y += h + 1;
    }
    let hint = if pending > 0 {
        S::fill(S::LOADING_KEYS_KEPT, &[("n", &pending.to_string())])
    } else {
        S::LOADING_HINT.to_string()
    };
    f.render_widget(
        Paragraph::new(Line::styled(hint, theme::dim())),
        Rect::new(inner.x, inner.y + total, inner.width, 1),
    );
}

/// The Image details pane while the image loads: its gauge, as on the loading screen.
fn draw_loading_details(f: &mut Frame, area: Rect, name: &str, l: &state::Loading) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(S::IMAGE_DETAILS_TITLE)
        .border_style(theme::border(false));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 3 || inner.width < 10 {
        return;
    }
    // the download under way is in the status line, whole: this pane is too narrow for it
    draw_gauge(f, inner, name, &l.progress, &[]);
}

/// One image's name, its bar with the bytes read beside it (the main figure: layers are
/// read in parallel, so their count stands still for most of the bytes), and the layers and
/// entries read below, then each download under way with its bytes.
fn draw_gauge(
    f: &mut Frame,
    area: Rect,
    name: &str,
    progress: &Progress,
    downloads: &[crate::progress::DownloadSnapshot],
) {
    let s = progress.snapshot();
    let line = |dy: u16| Rect::new(area.x, area.y + dy, area.width, 1);
    let title = S::fill(S::LOADING, &[("name", name)]);
    f.render_widget(
        Paragraph::new(Line::raw(text_fit::truncate(&title, area.width as usize))),
        line(0),
    );
    let analysing = s.layers_total > 0 && s.layers_done >= s.layers_total;
    let ratio = if analysing {
        1.0
    } else if s.bytes_total > 0 {
        (s.bytes_read as f64 / s.bytes_total as f64).min(1.0)
    } else if s.layers_total > 0 {
        s.layers_done as f64 / s.layers_total as f64
    } else {
        0.0
    };
    let human = crate::units::human_bytes;
    let figure = if analysing {
        S::ANALYSING.to_string()
    } else if s.bytes_total > 0 {
        format!(
            "{} / {} ({:.0} %)",
            human(s.bytes_read),
            human(s.bytes_total),
            ratio * 100.0
        )
    } else {
        human(s.bytes_read)
    };
    let fig_w = (cut::width(&figure) as u16 + 2).min(area.width / 2);
    let bar = Rect::new(area.x, area.y + 1, area.width - fig_w, 1);
    let filled = (ratio * bar.width as f64).round() as usize;
    let rest = (bar.width as usize).saturating_sub(filled);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("█".repeat(filled), theme::label()),
            Span::styled("░".repeat(rest), theme::dim()),
        ])),
        bar,
    );
    f.render_widget(
        Paragraph::new(Line::raw(format!("  {figure}"))),
        Rect::new(bar.x + bar.width, bar.y, fig_w, 1),
    );
    let layers = S::fill(
        S::LOADING_LAYERS,
        &[
            ("done", &s.layers_done.to_string()),
            ("total", &s.layers_total.to_string()),
            ("entries", &s.entries.to_string()),
        ],
    );
    f.render_widget(Paragraph::new(Line::styled(layers, theme::dim())), line(2));
    let rows = area.height.saturating_sub(3) as usize;
    if rows == 0 {
        return;
    }
    let (under_way, more) = crate::progress::downloads_under_way(downloads, rows);
    let (under_way, more) = if more > 0 {
        // the last row says how many more
        (&under_way[..rows - 1], more + 1)
    } else {
        (&under_way[..], 0)
    };
    for (i, d) in under_way.iter().enumerate() {
        let text = S::fill(S::LOADING_DOWNLOAD, &[("layer", &d.line())]);
        let text = text_fit::truncate(&text, area.width as usize);
        f.render_widget(Paragraph::new(Line::raw(text)), line(3 + i as u16));
    }
    if more > 0 {
        let text = S::fill(S::LOADING_DOWNLOADS_MORE, &[("n", &more.to_string())]);
        f.render_widget(
            Paragraph::new(Line::styled(text, theme::dim())),
            line(3 + under_way.len() as u16),
        );
    }
}

/// The main loop: draw, wait for an event, update, run effects; until `app.quit`.
/// Several queued events are applied before the next frame, so key repeat never lags. It
/// draws only when something changed: an event, the gauge's progress, a message expiring;
/// idle, it sleeps.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<AppEvent>,
    mut effects: impl FnMut(Effect),
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut dirty = true;
    let mut drawn_progress = app.progress_snapshot();
    loop {
        if app.clear {
            // resize clears and forces a full redraw without `clear`'s cursor query, whose
            // answer the input thread would swallow
            let s = terminal.size()?;
            terminal.resize(Rect::new(0, 0, s.width, s.height))?;
            app.clear = false;
            dirty = true;
        }
        if dirty {
            terminal.draw(|f| draw(f, app))?;
            app.frames += 1;
            drawn_progress = app.progress_snapshot();
            dirty = false;
        }
        if app.quit {
            return Ok(());
        }
        let first = match app.wake_in(Instant::now(), TICK) {
            Some(d) => match rx.recv_timeout(d) {
                Ok(ev) => ev,
                Err(RecvTimeoutError::Timeout) => AppEvent::Tick,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
            None => match rx.recv() {
                Ok(ev) => ev,
                Err(_) => return Ok(()),
            },
        };
        let mut next = Some(first);
        for _ in 0..64 {
            let Some(ev) = next.take() else { break };
            dirty |= state::handle_event(app, ev);
            if app.quit {
                break;
            }
            next = rx.try_recv().ok();
        }
        dirty |= app.progress_snapshot() != drawn_progress;
        for e in app.take_effects() {
            effects(e);
        }
    }
}

/// Puts the terminal back however the explorer ends: return, error or panic.
struct TerminalGuard;

fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(
        out,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

impl TerminalGuard {
    fn enter() -> anyhow::Result<TerminalGuard> {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // leave raw mode first, or the panic message is unreadable
            restore_terminal();
            prev(info);
        }));
        enable_raw_mode()?;
        let guard = TerminalGuard;
        crossterm::execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// The loaded image's layers opened for reading files: the loader fills it when it sends
/// them to the viewer, and the extract key's workers read through them (a registry's layer
/// fetched once, a daemon's image exported once, serve both).
type SharedFiles = Arc<std::sync::Mutex<Option<viewer::LayerFilesResult>>>;

/// Copy the bytes `src` reads to `dir/name` as they come (a file of any size in bounded
/// memory): never over an existing file, never outside `dir`; a copy that fails part way
/// leaves no partial file behind.
pub fn extract_to(dir: &Path, name: &str, mut src: impl std::io::Read) -> Result<PathBuf, String> {
    use crate::text_fit::escape_controls;
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(S::fill(
            S::EXTRACT_FAILED,
            &[("err", "not a plain file name")],
        ));
    }
    let target = dir.join(name);
    // create_new: O_EXCL, which also refuses a symlink planted at the name
    let f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(S::fill(
                S::EXTRACT_EXISTS,
                &[("name", &escape_controls(name))],
            ))
        }
        Err(e) => return Err(S::fill(S::EXTRACT_FAILED, &[("err", &e.to_string())])),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
    let copied = std::io::copy(&mut src, &mut out).and_then(|_| out.flush());
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&target);
        let err = escape_controls(&e.to_string()).into_owned();
        return Err(S::fill(S::EXTRACT_FAILED, &[("err", &err)]));
    }
    Ok(target)
}

/// Extract on a worker: the explorer's layers (opened now when the loader has not sent
/// them yet), the slow steps' progress line (a layer fetched again, the image exported, a
/// layer decoded) sent to the status bar as it moves, then the outcome.
fn run_extract(
    shared: SharedFiles,
    open: impl FnOnce() -> viewer::LayerFilesResult + Send + 'static,
    e: Effect,
    tx: Sender<AppEvent>,
) {
    std::thread::spawn(move || {
        let known = shared.lock().ok().and_then(|s| s.clone());
        let layers = match known.unwrap_or_else(open) {
            Ok(l) => l,
            Err(err) => {
                let err = text_fit::escape_controls(&err).into_owned();
                let _ = tx.send(AppEvent::Status(S::fill(
                    S::EXTRACT_FAILED,
                    &[("err", &err)],
                )));
                return;
            }
        };
        let activity = crate::source::refetch::Activity::new();
        let (done_tx, done_rx) = mpsc::channel();
        {
            let (activity, e) = (activity.clone(), e.clone());
            std::thread::spawn(move || {
                let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                let _ = done_tx.send(extract_file(&layers, &e, &dir, &activity));
            });
        }
        let Effect::Extract { path, .. } = &e;
        let path = text_fit::escape_controls(path).into_owned();
        loop {
            match done_rx.recv_timeout(Duration::from_millis(250)) {
                Ok(msg) => {
                    let _ = tx.send(AppEvent::Status(msg));
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    let Some(line) = activity.line() else {
                        continue;
                    };
                    let line = text_fit::escape_controls(&line).into_owned();
                    let msg = S::fill(S::EXTRACT_PROGRESS, &[("path", &path), ("progress", &line)]);
                    if tx.send(AppEvent::Status(msg)).is_err() {
                        activity.cancel(); // the explorer is gone
                    }
                }
            }
        }
    });
}

/// `Ctrl-E`'s work: the bytes of the file `e` names, read through `layers` (the viewer's:
/// a version the viewer kept on disk is copied from there), streamed to a new file in `dir`
/// ([`extract_to`]); slow steps report into `activity`. The status line it ends with.
pub fn extract_file(
    layers: &crate::source::access::LayerFiles,
    e: &Effect,
    dir: &Path,
    activity: &Arc<crate::source::refetch::Activity>,
) -> String {
    let Effect::Extract {
        layer,
        path,
        name,
        size,
        entry,
    } = e;
    let w = crate::source::access::Wanted {
        layer: *layer,
        path: path.clone(),
        // the entry, so that a compressed layer with access points is not walked from its start
        at: entry.map(|index| crate::source::access::EntryAt { index, size: *size }),
        diff_id: String::new(),
    };
    let copied = layers
        .entry_watched(&w, activity)
        .map_err(|err| {
            let err = text_fit::escape_controls(&err.to_string()).into_owned();
            S::fill(S::EXTRACT_FAILED, &[("err", &err)])
        })
        .and_then(|reader| extract_to(dir, name, reader));
    match copied {
        Ok(_) => S::fill(
            S::EXTRACT_DONE,
            // the real names, escaped: a terminal would drop or obey a control character and
            // show a name that is not on disk
            &[
                ("path", &text_fit::escape_controls(path)),
                ("name", &text_fit::escape_controls(name)),
                ("size", &crate::units::human_bytes(*size)),
            ],
        ),
        Err(m) => m,
    }
}

/// Take the terminal, run the loop on the app `make_app` builds for its size until it quits,
/// and give the terminal back (also on an error or a panic).
fn run_terminal(
    tx: Sender<AppEvent>,
    rx: Receiver<AppEvent>,
    make_app: impl FnOnce(Rect) -> App,
    effects: impl FnMut(Effect),
) -> anyhow::Result<App> {
    let guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    terminal.clear()?;
    let size = terminal.size()?;
    std::thread::spawn(move || {
        while let Ok(ev) = crossterm::event::read() {
            if tx.send(AppEvent::Term(ev)).is_err() {
                break;
            }
        }
    });
    let mut app = make_app(Rect::new(0, 0, size.width, size.height));
    let result = run_loop(&mut terminal, &mut app, &rx, effects);
    drop(guard);
    stop_loading(&app);
    result?;
    Ok(app)
}

/// Quitting while images load: ask their loaders to stop (they check as they read).
pub fn stop_loading(app: &App) {
    match &app.screen {
        Screen::Loading { items } => {
            for (_, progress) in items {
                progress.cancel();
            }
        }
        Screen::Explore(ex) => {
            if let Some(l) = &ex.loading {
                l.progress.cancel();
            }
        }
        _ => {}
    }
}

/// A load error comes back as an error (printed after the terminal is restored).
fn exit_status(app: App) -> anyhow::Result<i32> {
    match app.screen {
        Screen::Failed(msg) => Err(anyhow::anyhow!(msg)),
        _ => Ok(crate::exit_codes::OK),
    }
}

/// Open the explorer on `target`. Returns the exit status; a load error comes back as an error
/// after the terminal is restored.
pub fn run(target: &str, config: &LoadConfig, why: &WhyArgs) -> anyhow::Result<i32> {
    let progress = Arc::new(Progress::new());
    let (tx, rx) = mpsc::channel::<AppEvent>();
    let shared: SharedFiles = Arc::default();
    {
        let (tx, target, config, why, progress, shared) = (
            tx.clone(),
            target.to_string(),
            // the load records access points into compressed layers for the viewer
            config.recording_seek_points(crate::source::seek_index::SeekIndexes::new()),
            why.clone(),
            progress.clone(),
            shared.clone(),
        );
        std::thread::spawn(move || {
            load_explorer(&target, &config, &why, progress, &tx);
            // after the image: the viewer's layers, indexed for reading single files
            let files = crate::contents::layer_files(&target, &config);
            if let Ok(mut s) = shared.lock() {
                *s = Some(files.clone());
            }
            let _ = tx.send(AppEvent::Files(Box::new(files)));
        });
    }
    let name = target.to_string();
    let open = {
        let (target, config) = (target.to_string(), config.clone());
        move || crate::contents::layer_files(&target, &config)
    };
    let app = run_terminal(
        tx.clone(),
        rx,
        |size| App::loading(name, progress, size),
        |e| run_extract(shared.clone(), open.clone(), e, tx.clone()),
    )?;
    if let Some(ex) = app.explorer_ref() {
        // a worker may still hold the layers: their temporary directory goes now
        ex.discard_viewer_files();
    }
    exit_status(app)
}

/// The explorer's loader: the image so far as its first layers are read (analysed here, on
/// the feed's thread), the image and its analysis, then "why is it big", whose options may
/// load a base image (quietly: the terminal is the explorer's).
pub fn load_explorer(
    target: &str,
    config: &LoadConfig,
    why: &WhyArgs,
    progress: Arc<Progress>,
    tx: &Sender<AppEvent>,
) {
    let feed = {
        let tx = tx.clone();
        LayerFeed::new(move |p| {
            let a = Analysis::run(&p.image);
            let _ = tx.send(AppEvent::Partial(Box::new((p, a))));
        })
    };
    let watch = Watch::counting(progress).with_layers(feed.clone());
    let loaded = pipeline::load(target, config, Keep::Contents, &watch);
    feed.close();
    let r = loaded
        .map(|image| {
            let a = Analysis::run(&image);
            (image, a)
        })
        .map_err(|e| e.to_string());
    let report = r.as_ref().ok().map(|(image, a)| {
        pipeline::why_options(why, config, &Watch::default())
            .map(|(o, _base_notes)| WhyReport::run(image, a, &o))
            .map_err(|e| e.to_string())
    });
    let _ = tx.send(AppEvent::Loaded(Box::new(r)));
    if let Some(w) = report {
        let _ = tx.send(AppEvent::Why(Box::new(w)));
    }
}

/// A comparison as the compare view takes it: the loaders' notes named by side.
pub fn for_view(pair: ComparedPair) -> compare::Compared {
    let [a, b] = pair.notes;
    let notes = (a.into_iter().map(|w| format!("A: {w}")))
        .chain(b.into_iter().map(|w| format!("B: {w}")))
        .collect();
    compare::Compared {
        comparison: pair.comparison,
        notes,
    }
}

/// Open the compare view on images `a` and `b`: both load in the background, a gauge each.
pub fn run_compare(a: &str, b: &str, config: &LoadConfig, why: WhyOptions) -> anyhow::Result<i32> {
    let (pa, pb) = (Arc::new(Progress::new()), Arc::new(Progress::new()));
    let (tx, rx) = mpsc::channel::<AppEvent>();
    {
        let (tx, a, b, config) = (tx.clone(), a.to_string(), b.to_string(), config.clone());
        let watch = [Watch::counting(pa.clone()), Watch::counting(pb.clone())];
        std::thread::spawn(move || {
            let r = pipeline::compare_images(&a, &b, &config, &why, None, [&watch[0], &watch[1]])
                .map(for_view)
                .map_err(|e| e.to_string());
            let _ = tx.send(AppEvent::Compared(Box::new(r)));
        });
    }
    let items = vec![(format!("A: {a}"), pa), (format!("B: {b}"), pb)];
    let app = run_terminal(tx, rx, |size| App::loading_many(items, size), |_| {})?;
    exit_status(app)
}
