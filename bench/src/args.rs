//! Value parsers of the numbers typed into `lichen-bench sim`, so that `-1`, `inf`, `NaN` or
//! `1e30` is a usage error (exit 2, clap's message naming the option) and never reaches a
//! cast. The same rules as the `lichen` command's.

/// The longest duration an option accepts: ten years, in seconds.
const MAX_SECONDS: f64 = 10.0 * 365.0 * 24.0 * 3600.0;

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

/// A probability: `0` to `1`.
pub fn probability(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{s} is not a probability (0 to 1)"));
    }
    Ok(v)
}

/// A percentage above 0, at most 100.
pub fn percent(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if !(v > 0.0 && v <= 100.0) {
        return Err(format!("{s} is not a percentage above 0, at most 100"));
    }
    Ok(v)
}

/// Hours above 0, at most ten years.
pub fn hours(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if !(v > 0.0 && v <= MAX_SECONDS / 3600.0) {
        return Err(format!(
            "{s} hours is out of range (above 0, at most {} hours)",
            MAX_SECONDS / 3600.0
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bad_numbers_are_errors() {
        for bad in ["-1", "inf", "-inf", "NaN", "1e30", "", "abc", "0x10"] {
            assert!(probability(bad).is_err(), "{bad}");
            assert!(percent(bad).is_err(), "{bad}");
            assert!(hours(bad).is_err(), "{bad}");
        }
        assert!(probability("1.5").is_err());
        assert!(percent("0").is_err());
        assert!(hours("0").is_err());
    }

    #[test]
    fn good_numbers_parse() {
        assert_eq!(probability("0.25").unwrap(), 0.25);
        assert_eq!(percent("100").unwrap(), 100.0);
        assert_eq!(hours("24").unwrap(), 24.0);
    }
}
