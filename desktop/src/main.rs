//! `lichen-desktop`: opens the window on the data folder (`--dir DIR`, else
//! `LICHEN_DESKTOP_DIR`, else the platform's data folder).

use std::path::PathBuf;

use lichen_desktop::ui::Desktop;

struct Window(Desktop);

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.show(ui);
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let mut args = std::env::args().skip(1);
    let mut dir = lichen_desktop::default_dir();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => {
                dir = PathBuf::from(
                    args.next()
                        .ok_or_else(|| anyhow::anyhow!("--dir needs a folder"))?,
                )
            }
            "-h" | "--help" => {
                println!("lichen-desktop [--dir DATA_FOLDER]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other} (try --help)"),
        }
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Lichen")
            .with_inner_size([1000.0, 680.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Lichen",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            Ok(Box::new(Window(Desktop::new(dir, move || {
                ctx.request_repaint()
            }))))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
