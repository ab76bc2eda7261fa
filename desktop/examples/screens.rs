//! Opens the real window (eframe, OpenGL) on one screen with real data behind it, for the
//! screenshot test (`desktop/test.sh`): a fresh identity made through the window, a second
//! node linked over a WebSocket on loopback that writes to it, own posts, and a dongle
//! emulator paired through the window. When the screen shows what it should, the example
//! writes `OUT/SCREEN.ready` and keeps drawing until killed.
//!
//! `cargo run -p lichen-desktop --example screens -- SCREEN OUT_DIR`
//! (SCREEN: chats, conversation, pairing, sync)

use std::path::PathBuf;
use std::sync::Arc;

use lichen::app::{App, AppOptions};
use lichen::chat::ChatId;
use lichen::emu::radio::Radio;
use lichen::emu::{EmuConfig, Emulator};
use lichen_desktop::ui::{Desktop, DongleLive, Screen};
use lichen_desktop::worker::Cmd;

struct Shot {
    d: Desktop,
    which: String,
    out: PathBuf,
    data: PathBuf,
    step: u32,
    frames: u32,
    emu: Arc<Emulator>,
    peer: Option<std::thread::JoinHandle<App>>,
    done: bool,
}

impl eframe::App for Shot {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.d.show(ui);
        self.advance();
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(50));
    }
}

impl Shot {
    fn advance(&mut self) {
        let d = &mut self.d;
        match self.step {
            0 if d.me.is_some() => {
                d.command(Cmd::ListenWs("127.0.0.1:0".into()));
                for t in [
                    "Good morning, everyone",
                    "The pass is open again",
                    "Meeting at the hut at noon?",
                ] {
                    d.command(Cmd::Send(ChatId::Public, t.into()));
                }
                self.step = 1;
            }
            1 if d.listening.is_some() => {
                let url = format!("ws://{}", d.listening.clone().unwrap_or_default());
                let me = d.me;
                let dir = self.data.join("peer");
                self.peer = Some(std::thread::spawn(move || {
                    let b = App::create(&dir, AppOptions::default()).ok();
                    if let (Some(b), Some(me)) = (b, me) {
                        let _ = b.chats().set_my_alias("Ana");
                        let _ = b.dial_ws(&url);
                        let _ = b.send(&ChatId::Public, "Yes — I bring the map");
                        if let Ok(chat) = b.chats().chat_with(&[me]) {
                            let _ = b.send(&chat, "Can you check the dongle battery?");
                            let _ = b.send(&chat, "And bring the spare antenna, please.");
                        }
                        return b;
                    }
                    std::process::exit(3)
                }));
                d.command(Cmd::Pair(
                    Some(self.emu.ble_addr().to_string()),
                    "tinySSB-7e57".into(),
                ));
                self.step = 2;
            }
            2 if d.unread_total() >= 2 && matches!(d.dongle_live, DongleLive::Connected(_)) => {
                match self.which.as_str() {
                    "conversation" => {
                        d.screen = Screen::Chats;
                        d.open_chat(ChatId::Public);
                    }
                    "pairing" => {
                        d.screen = Screen::Pairing;
                        d.command(Cmd::Scan(Some(self.emu.ble_addr().to_string())));
                    }
                    "sync" => d.screen = Screen::Sync,
                    _ => d.screen = Screen::Chats,
                }
                self.step = 3;
            }
            3 => {
                let ready = match self.which.as_str() {
                    "conversation" => d.open.as_ref().is_some_and(|o| o.messages.len() >= 4),
                    "pairing" => !d.found.is_empty() && d.dongle.is_some(),
                    "sync" => d.sync.as_ref().is_some_and(|s| s.links > 0),
                    _ => true,
                };
                if ready {
                    self.frames += 1;
                }
                if self.frames > 20 && !self.done {
                    self.done = true;
                    let _ = std::fs::write(self.out.join(format!("{}.ready", self.which)), b"");
                }
            }
            _ => {}
        }
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "chats".into());
    let out = PathBuf::from(args.next().unwrap_or_else(|| "target/screenshots".into()));
    std::fs::create_dir_all(&out)?;
    let data = std::env::temp_dir().join(format!("lichen-screens-{}-{which}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut cfg = EmuConfig::new(0x7e57);
    cfg.rssi = -58;
    let emu = Arc::new(Emulator::start(cfg, Radio::Off)?);
    let me = data.join("me");
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Lichen")
            .with_position([0.0, 0.0])
            .with_inner_size([1000.0, 680.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Lichen",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let mut d = Desktop::new(me.clone(), move || ctx.request_repaint());
            d.notify = false;
            d.command(Cmd::Create(me));
            Ok(Box::new(Shot {
                d,
                which,
                out,
                data,
                step: 0,
                frames: 0,
                emu,
                peer: None,
                done: false,
            }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
