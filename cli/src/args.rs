//! The value parsers of every number a person types on the command line (durations,
//! probabilities), so that `-1`, `inf`, `NaN` or `1e30` is a usage error (exit 2,
//! clap's message naming the option) and never reaches a `Duration` or a cast.

use std::time::Duration;

/// The longest duration an option accepts: ten years, in seconds (later than any run, early
/// enough that `Instant::now() + d` cannot overflow).
pub const MAX_SECONDS: f64 = 10.0 * 365.0 * 24.0 * 3600.0;

fn number(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{s:?} is not a finite number"));
    }
    Ok(v)
}

/// Seconds, fractions allowed: `0` to ten years.
pub fn seconds(s: &str) -> Result<Duration, String> {
    let v = number(s)?;
    if !(0.0..=MAX_SECONDS).contains(&v) {
        return Err(format!(
            "{s} seconds is out of range (0 to {MAX_SECONDS} seconds)"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

/// A probability: `0` to `1`.
pub fn probability(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{s} is not a probability (0 to 1)"));
    }
    Ok(v)
}

/// Emulator addresses: comma-separated `host:port`, each with a host and a port from 1 to
/// 65535 (an address that does not answer is a dongle out of range; one that cannot be an
/// address is a mistake to point out).
pub fn socket_addrs(s: &str) -> Result<String, String> {
    for a in s.split(',') {
        let a = a.trim();
        let Some((host, port)) = a.rsplit_once(':') else {
            return Err(format!("{a:?} is not host:port"));
        };
        if host.is_empty() || host.chars().any(char::is_whitespace) {
            return Err(format!("{a:?} has no host name"));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(format!("{a:?}: the port must be a number from 1 to 65535")),
        }
    }
    Ok(s.to_owned())
}

/// `Instant::now() + d`, or `None` (never) if that is not a time the clock can hold.
pub fn deadline(d: Option<Duration>) -> Option<std::time::Instant> {
    d.and_then(|d| std::time::Instant::now().checked_add(d))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bad_numbers_are_errors() {
        for bad in ["-1", "inf", "-inf", "NaN", "1e30", "", "abc", "0x10"] {
            assert!(seconds(bad).is_err(), "{bad}");
            assert!(probability(bad).is_err(), "{bad}");
        }
        assert!(probability("1.5").is_err());
    }

    #[test]
    fn good_numbers_parse() {
        assert_eq!(seconds("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(seconds("0").unwrap(), Duration::ZERO);
        assert_eq!(probability("0.25").unwrap(), 0.25);
    }
}
