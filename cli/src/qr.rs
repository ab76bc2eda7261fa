//! Terminal QR codes with Unicode half blocks: two module rows per text line.
//!
//! The text is the upper-cased beacon (BOM #2's QR rule), so the `qrcode` crate can use the
//! alphanumeric mode (5.5 bits per character instead of 8). Light modules (and a two-module
//! quiet zone) are drawn as blocks and dark modules as blank, which reads correctly on the
//! usual light-on-dark terminal: the blank cells show the dark background.

use qrcode::{Color, EcLevel, QrCode};

/// Quiet zone around the code, in modules.
const QUIET: usize = 2;

/// The QR code of `text` as lines of half-block characters.
pub fn render(text: &str) -> anyhow::Result<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L)
        .map_err(|e| anyhow::anyhow!("making the QR code: {e}"))?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
    // Light (true) outside the code, as the quiet zone must be.
    let light = |x: usize, y: usize| -> bool {
        if x < QUIET || y < QUIET || x >= QUIET + width || y >= QUIET + width {
            return true;
        }
        colors[(y - QUIET) * width + (x - QUIET)] == Color::Light
    };
    let mut out = String::new();
    for y in (0..size).step_by(2) {
        for x in 0..size {
            let top = light(x, y);
            let bottom = y + 1 >= size || light(x, y + 1);
            out.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendered lines back to modules: `true` for light, one row per module row.
    fn modules(qr: &str) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in qr.lines() {
            let (top, bottom): (Vec<bool>, Vec<bool>) = line
                .chars()
                .map(|c| match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected character {other:?}"),
                })
                .unzip();
            rows.push(top);
            rows.push(bottom);
        }
        rows
    }

    /// Decodes what `render` drew with an independent QR decoder (light blocks as white
    /// pixels, blanks as black, 4 pixels per module) and returns the text it finds.
    fn decode(qr: &str) -> String {
        const PX: usize = 4;
        let rows = modules(qr);
        let width = rows[0].len();
        let height = rows.len();
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(width * PX, height * PX, |x, y| {
                if rows[y / PX][x / PX] {
                    255
                } else {
                    0
                }
            });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the picture");
        let (_, text) = grids[0].decode().expect("the code decodes");
        text
    }

    #[test]
    fn renders_a_square_of_half_blocks() {
        let qr = render("MONEYSOCKET1QQ").unwrap();
        let lines: Vec<&str> = qr.lines().collect();
        let width = lines[0].chars().count();
        assert_eq!(width, 21 + 2 * QUIET, "version 1 code plus quiet zone");
        assert_eq!(lines.len(), width.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == width));
        assert!(lines[0].chars().all(|c| c == '█' || c == '▄'));
    }

    #[test]
    fn what_is_drawn_decodes_back_to_the_text() {
        for text in [
            "MONEYSOCKET1QQ",
            "MONEYSOCKET1LICHEN1QQYQQQSZQGQQYQQQQZQQQQQQQQQPZQRXVEHK7CMMDD5HGCT5D9HXZUNFDE6XYET8",
        ] {
            assert_eq!(decode(&render(text).unwrap()), text);
        }
    }
}
