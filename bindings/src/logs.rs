//! `tracing` to a foreign log sink (logcat, os_log, Python logging) at a chosen level.
//!
//! Lines are handed to the sink on a thread of their own through a bounded queue, so a slow
//! sink never stalls the node (lines beyond the queue are dropped and counted). Lichen logs
//! no keys and no private plaintext; what reaches the sink is what the core logs.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::errors::CallbackError;
use crate::LichenError;

/// Lines queued towards the sink.
const QUEUE: usize = 4096;

/// How much to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Failures only.
    Error,
    /// Failures and what the person may need to know.
    Warn,
    /// Links up and down, pairing, recovery.
    Info,
    /// What each part does.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn of(l: &Level) -> LogLevel {
        match *l {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            Level::TRACE => LogLevel::Trace,
        }
    }
}

/// Implemented by the app: where log lines go.
#[uniffi::export(callback_interface)]
pub trait LogSink: Send + Sync {
    /// One line: its level, the Rust module it came from, and the text with its fields.
    fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), CallbackError>;
}

struct Line {
    level: LogLevel,
    target: String,
    message: String,
}

/// The sink now (replaced by a later `set_log_sink`).
static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);
/// The most verbose level passed on (`LogLevel as u8`; 255: none).
static LEVEL: AtomicU8 = AtomicU8::new(255);
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// Whether the subscriber is installed.
static INSTALLED: OnceLock<Mutex<bool>> = OnceLock::new();

struct Forward(SyncSender<Line>);

fn enabled(level: &Level) -> bool {
    let max = LEVEL.load(Ordering::Relaxed);
    max != 255 && (LogLevel::of(level) as u8) <= max
}

impl<S: Subscriber> Layer<S> for Forward {
    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        enabled(meta.level())
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        if !enabled(meta.level()) {
            return;
        }
        let mut v = Text::default();
        event.record(&mut v);
        let line = Line {
            level: LogLevel::of(meta.level()),
            target: meta.target().to_owned(),
            message: v.0,
        };
        if let Err(TrySendError::Full(_)) = self.0.try_send(line) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
}

fn install() -> Result<(), LichenError> {
    let g = INSTALLED.get_or_init(|| Mutex::new(false));
    let mut g = g.lock().map_err(|_| LichenError::Node {
        reason: "the log sink is broken".into(),
    })?;
    if *g {
        return Ok(());
    }
    let (tx, rx) = sync_channel::<Line>(QUEUE);
    std::thread::Builder::new()
        .name("lichen-log".into())
        .spawn(move || {
            while let Ok(line) = rx.recv() {
                let sink = SINK.read().ok().and_then(|s| s.clone());
                if let Some(s) = sink {
                    // A failing sink loses its line, nothing else.
                    let _ = s.log(line.level, line.target, line.message);
                }
            }
        })
        .map_err(|e| LichenError::Node {
            reason: format!("starting the log thread: {e}"),
        })?;
    let subscriber = tracing_subscriber::registry().with(Forward(tx));
    tracing::subscriber::set_global_default(subscriber).map_err(|e| LichenError::Node {
        reason: format!("another logger is installed in this process: {e}"),
    })?;
    *g = true;
    Ok(())
}

/// Sends Lichen's logs at `level` and above to `sink` (replacing an earlier sink). Fails if
/// the process already has another `tracing` subscriber.
#[uniffi::export]
pub fn set_log_sink(sink: Box<dyn LogSink>, level: LogLevel) -> Result<(), LichenError> {
    install()?;
    if let Ok(mut s) = SINK.write() {
        *s = Some(Arc::from(sink));
    }
    LEVEL.store(level as u8, Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
    Ok(())
}

/// Changes the level of the installed sink.
#[uniffi::export]
pub fn set_log_level(level: LogLevel) {
    LEVEL.store(level as u8, Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
}

/// Stops passing logs on (the sink is dropped).
#[uniffi::export]
pub fn clear_log_sink() {
    LEVEL.store(255, Ordering::Relaxed);
    if let Ok(mut s) = SINK.write() {
        s.take();
    }
    tracing::callsite::rebuild_interest_cache();
}

/// Log lines dropped because the sink did not keep up.
#[uniffi::export]
pub fn dropped_log_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}
