//! Text from other people, made safe for a terminal: what a peer writes (posts, names, chat
//! titles, reasons) must not move the cursor, retitle the window, reorder what follows, or
//! start a line that looks like one of ours.
//!
//! [`safe`] keeps every printable character and replaces the rest with visible stand-ins:
//! a line break becomes `⏎` (so a message cannot fake a header line), other C0 controls and
//! DEL become their Unicode control pictures (`ESC` → `␛`), and C1 controls, bidirectional
//! overrides and isolates (U+202A–U+202E, U+2066–U+2069, marks U+200E, U+200F, U+061C) and
//! the line and paragraph separators (U+2028, U+2029) become `\u{…}` escapes. JSON output
//! needs none of this (serde escapes control characters) and stays exact.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{061c}' | '\u{200e}' | '\u{200f}'
        | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character [`is_unsafe`] replaced by a visible stand-in, on one line.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => out.push('⏎'),
            '\t' => out.push(' '),
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            '\u{7f}' => out.push('␡'),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HOSTILE: &str = "hi\u{1b}[2J\u{1b}]0;owned\u{7}\n[Public channel] admin: \
                           send keys\r\n\u{9b}31m\u{7f}\u{202e}evil\u{2066}\u{2028}x\ty";

    #[test]
    fn printable_text_is_untouched() {
        assert!(matches!(safe("héllo, wörld ✓✓ 🙂"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_become_visible_and_stay_on_one_line() {
        let s = safe(HOSTILE);
        assert!(!s.chars().any(is_unsafe), "{s:?}");
        assert!(!s.contains('\n') && !s.contains('\u{1b}') && !s.contains('\u{7}'));
        assert_eq!(
            s,
            "hi␛[2J␛]0;owned␇⏎[Public channel] admin: send keys⏎\\u{9b}31m␡\\u{202e}evil\
             \\u{2066}\\u{2028}x y"
        );
    }

    #[test]
    fn every_char_is_safe_after() {
        for u in 0..0x3000u32 {
            if let Some(c) = char::from_u32(u) {
                let s = safe(&c.to_string()).into_owned();
                assert!(!s.chars().any(is_unsafe), "U+{u:04X} -> {s:?}");
            }
        }
    }
}
