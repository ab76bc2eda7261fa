//! Everything `lichen-bench` prints goes through here.
//!
//! `println!` panics when stdout is closed (`lichen-bench sim --json | head -1`); these
//! writers turn a closed stdout into [`Closed`], which ends a command quietly (exit 0, nothing
//! on stderr), and a closed stderr into silence.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// The reader of stdout went away: stop printing, and end the command quietly.
#[derive(Debug)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for Closed {}

/// Writes to stdout (and a line break with `newline`), flushed.
pub fn write(args: fmt::Arguments<'_>, newline: bool) -> anyhow::Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Err(Closed.into());
    }
    let mut out = std::io::stdout().lock();
    let r = out
        .write_fmt(args)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush());
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Err(Closed.into())
        }
        Err(e) => Err(anyhow::Error::new(e).context("writing to stdout")),
    }
}

/// Writes a line to stderr; a closed or failing stderr is ignored (there is nowhere left to
/// say anything).
pub fn err(args: fmt::Arguments<'_>) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_fmt(args).and_then(|()| e.write_all(b"\n"));
}

/// Whether `e` is (caused by) a closed stdout.
pub fn is_closed(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Closed>())
}

/// `println!` that returns `Err(Closed)` instead of panicking when stdout is closed.
macro_rules! outln {
    () => { $crate::out::write(format_args!(""), true) };
    ($($t:tt)*) => { $crate::out::write(format_args!($($t)*), true) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($t:tt)*) => { $crate::out::err(format_args!($($t)*)) };
}
