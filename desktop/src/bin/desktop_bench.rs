//! `desktop-bench`: frame times of the desktop window over a store of 100 000 messages, and
//! beside them, in the same run and on the same store, the core's own page read
//! (`App::timeline_page`). Frames are the window's whole CPU side — the egui pass (our
//! screens, polling the node thread) and tessellation into triangles — without a GPU.
//!
//! `cargo run --release -p lichen-desktop --bin desktop-bench [-- --messages N]`

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use egui::{Event, Modifiers, MouseWheelSource, MouseWheelUnit, RawInput, TouchPhase};
use lichen::app::{App, AppOptions};
use lichen::chat::ChatId;
use lichen_desktop::ui::{Desktop, Screen, PAGE};

const SIZE: egui::Vec2 = egui::vec2(1000.0, 700.0);
/// The target for p99 frame time.
const BUDGET_MS: f64 = 16.0;

struct Frames {
    ctx: egui::Context,
    t: f64,
}

impl Frames {
    fn frame(&mut self, d: &mut Desktop, events: Vec<Event>) -> Duration {
        self.t += 1.0 / 60.0;
        let input = RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, SIZE)),
            time: Some(self.t),
            events,
            ..RawInput::default()
        };
        let start = Instant::now();
        let out = self.ctx.run_ui(input, |ui| d.show(ui));
        let prims = self.ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(prims.len());
        start.elapsed()
    }
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e3
}

fn wheel_up(y: f32) -> Vec<Event> {
    vec![
        Event::PointerMoved(egui::pos2(600.0, 350.0)),
        Event::MouseWheel {
            unit: MouseWheelUnit::Point,
            delta: egui::vec2(0.0, y),
            phase: TouchPhase::Move,
            source: MouseWheelSource::Unknown,
            modifiers: Modifiers::NONE,
        },
    ]
}

fn main() -> anyhow::Result<()> {
    let mut messages = 100_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--messages" => {
                messages = args
                    .next()
                    .context("--messages needs a number")?
                    .parse()
                    .context("--messages needs a number")?
            }
            other => bail!("unknown argument {other}"),
        }
    }
    let tmp = std::env::temp_dir().join(format!("lichen-desktop-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);

    // The store: most messages in the public channel (the long conversation), the rest in
    // notes-to-self, written through the door as the app writes them.
    let fill = Instant::now();
    let app = App::create(&tmp, AppOptions::default())?;
    let notes = ChatId::notes(app.fid());
    let long = messages - messages / 10;
    for i in 0..messages {
        let chat = if i < long { &ChatId::Public } else { &notes };
        app.send(
            chat,
            &format!("message {i}: the ridge path is clear after the rain"),
        )?;
    }
    let fill_s = fill.elapsed().as_secs_f64();

    // The core's page read on the same store: walk back through the long chat.
    let mut reads = Vec::new();
    let mut cursor = None;
    for _ in 0..200 {
        let start = Instant::now();
        let (page, more) = app.timeline_page(&ChatId::Public, cursor.as_ref(), PAGE)?;
        reads.push(start.elapsed());
        cursor = page.first().map(|m| m.cursor.clone());
        if !more {
            break;
        }
    }
    let mut opens = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        std::hint::black_box(app.conversation(&ChatId::Public, None, PAGE)?);
        opens.push(start.elapsed());
    }
    app.stop();

    // The window over it.
    let mut d = Desktop::new(tmp.clone(), || {});
    d.notify = false;
    let mut f = Frames {
        ctx: egui::Context::default(),
        t: 0.0,
    };
    let wait = Instant::now();
    while d.me.is_none() || d.chats.is_empty() {
        f.frame(&mut d, Vec::new());
        std::thread::sleep(Duration::from_millis(5));
        if wait.elapsed() > Duration::from_secs(120) {
            bail!("the window did not open the store: {:?}", d.error);
        }
    }
    d.screen = Screen::Chats;

    // Opening chats: the frames from the click until the page shows, alternating chats.
    let mut open_frames = Vec::new();
    let mut shown = Vec::new();
    for k in 0..20 {
        let chat = if k % 2 == 0 {
            ChatId::Public
        } else {
            notes.clone()
        };
        let start = Instant::now();
        d.open_chat(chat);
        loop {
            open_frames.push(f.frame(&mut d, Vec::new()));
            if d.open.as_ref().is_some_and(|o| !o.messages.is_empty()) {
                break;
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("the chat did not open: {:?}", d.error);
            }
        }
        shown.push(start.elapsed());
        for _ in 0..5 {
            open_frames.push(f.frame(&mut d, Vec::new()));
        }
    }

    // Scrolling the long chat up: a wheel step every frame, older pages loading meanwhile.
    d.open_chat(ChatId::Public);
    while d.open.as_ref().is_some_and(|o| o.messages.is_empty()) {
        f.frame(&mut d, Vec::new());
    }
    let mut scroll_frames = Vec::new();
    let scroll_start = Instant::now();
    for _ in 0..1500 {
        scroll_frames.push(f.frame(&mut d, wheel_up(120.0)));
    }
    let scroll_s = scroll_start.elapsed().as_secs_f64();
    let loaded = d.open.as_ref().map_or(0, |o| o.messages.len());
    drop(d);
    let _ = std::fs::remove_dir_all(&tmp);

    let (o50, o99, omax) = (
        pct(&mut open_frames, 0.5),
        pct(&mut open_frames, 0.99),
        pct(&mut open_frames, 1.0),
    );
    let (s50, s99, smax) = (
        pct(&mut scroll_frames, 0.5),
        pct(&mut scroll_frames, 0.99),
        pct(&mut scroll_frames, 1.0),
    );
    println!("desktop-bench: {messages} messages ({long} in the long chat), filled through the door in {fill_s:.1} s");
    println!(
        "core page read ({PAGE} messages, timeline_page, 200 pages back): p50 {:.2} ms  p99 {:.2} ms",
        pct(&mut reads, 0.5),
        pct(&mut reads, 0.99)
    );
    println!(
        "core open (conversation: summary + newest page + gaps): p50 {:.2} ms  p99 {:.2} ms",
        pct(&mut opens, 0.5),
        pct(&mut opens, 0.99)
    );
    println!(
        "frame, opening a chat ({} frames, 20 opens): p50 {o50:.2} ms  p99 {o99:.2} ms  max {omax:.2} ms; page shown after p50 {:.1} ms",
        open_frames.len(),
        pct(&mut shown, 0.5)
    );
    println!(
        "frame, scrolling the long chat ({} frames in {scroll_s:.1} s, {loaded} messages loaded by the end): p50 {s50:.2} ms  p99 {s99:.2} ms  max {smax:.2} ms",
        scroll_frames.len()
    );
    let ok = o99 < BUDGET_MS && s99 < BUDGET_MS;
    println!(
        "p99 target {BUDGET_MS} ms: {}",
        if ok { "met" } else { "MISSED" }
    );
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}
