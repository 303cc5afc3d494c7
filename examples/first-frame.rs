//! How soon the explorer shows something: the time from start to its first frame on the
//! image (the first layers read, analysed and drawn), to the whole image drawn, and to "why
//! is it big". Runs the explorer's own loader and loop, drawing on a 100x30 test backend
//! instead of a terminal. Run by `benches/first-frame.sh`.
//!
//!   cargo run --release --example first-frame -- IMAGE [--insecure-registry HOST]

use bathyscaphe::pipeline::{LoadArgs, LoadConfig, WhyArgs};
use bathyscaphe::progress::Progress;
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Screen};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .ok_or("usage: first-frame IMAGE [--insecure-registry HOST]")?;
    let mut load = LoadArgs {
        no_cache: true,
        max_inflate_ratio: bathyscaphe::source::layer::DEFAULT_MAX_INFLATE_RATIO,
        ..LoadArgs::default()
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--insecure-registry" => load.insecure_registry.push(args.next().ok_or("HOST")?),
            "--no-verify" => load.no_verify = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let config = LoadConfig::from_args(&load);
    let progress = Arc::new(Progress::new());
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    {
        let (tx, target, progress) = (tx.clone(), target.clone(), progress.clone());
        std::thread::spawn(move || {
            bathyscaphe::tui::load_explorer(&target, &config, &WhyArgs::default(), progress, &tx)
        });
    }
    drop(tx);
    let size = Rect::new(0, 0, 100, 30);
    let mut app = App::loading(target.clone(), progress, size);
    let mut term = Terminal::new(TestBackend::new(size.width, size.height))?;
    let (mut first, mut whole, mut shown) = (None, None, 0usize);
    let mut why = None;
    while let Ok(ev) = rx.recv_timeout(Duration::from_secs(600)) {
        let is_why = matches!(ev, AppEvent::Why(_));
        handle_event(&mut app, ev);
        if let Screen::Failed(e) = &app.screen {
            return Err(e.clone().into());
        }
        term.draw(|f| bathyscaphe::tui::draw(f, &app))?;
        let Some(ex) = app.explorer_ref() else {
            continue;
        };
        let now = start.elapsed();
        match &ex.loading {
            Some(l) => {
                first.get_or_insert(now);
                if l.loaded > shown {
                    shown = l.loaded;
                    println!(
                        "{:>7.2} s  layers 0..{} of {} shown",
                        now.as_secs_f64(),
                        l.loaded,
                        ex.image.layers.len()
                    );
                }
            }
            None if whole.is_none() => {
                first.get_or_insert(now);
                whole = Some(now);
                println!("{:>7.2} s  the whole image", now.as_secs_f64());
            }
            None => {}
        }
        if is_why {
            why = Some(now);
            break;
        }
    }
    let s =
        |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{:.2} s", d.as_secs_f64()));
    println!(
        "{target}: first frame {}, whole image {}, why is it big {}",
        s(first),
        s(whole),
        s(why)
    );
    Ok(())
}
