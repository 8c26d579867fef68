//! Draws the health dot, and the badge count inside it, onto the app icon for the tray (plain
//! RGBA pixels, no image crate).

/// Returns a copy of `rgba` (`width` x `height`, 4 bytes a pixel) with a filled dot of
/// `color` and a dark ring in the bottom-right corner. `None` when the buffer size is wrong.
pub fn with_badge(rgba: &[u8], width: u32, height: u32, color: [u8; 4]) -> Option<Vec<u8>> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || rgba.len() != w.checked_mul(h)?.checked_mul(4)? {
        return None;
    }
    let mut out = rgba.to_vec();
    let size = w.min(h) as f32;
    let radius = size * 0.24;
    let ring = (size * 0.05).max(1.0);
    let (cx, cy) = (w as f32 - radius - ring, h as f32 - radius - ring);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let d = (dx * dx + dy * dy).sqrt();
            let px = if d <= radius {
                color
            } else if d <= radius + ring {
                [0x10, 0x16, 0x24, 0xff]
            } else {
                continue;
            };
            let i = (y * w + x) * 4;
            out[i..i + 4].copy_from_slice(&px);
        }
    }
    Some(out)
}

/// 3×5 glyphs for the badge count (bit 2 is the left column).
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '+' => [0, 2, 7, 2, 0],
        _ => return None,
    })
}

/// Like [`with_badge`], with `text` (digits and `+`, e.g. "3" or "99+") written in white
/// inside the dot: the tray's badge count.
pub fn with_count(
    rgba: &[u8],
    width: u32,
    height: u32,
    color: [u8; 4],
    text: &str,
) -> Option<Vec<u8>> {
    let mut out = with_badge(rgba, width, height, color)?;
    let glyphs: Vec<[u8; 5]> = text.chars().filter_map(glyph).collect();
    if glyphs.is_empty() {
        return Some(out);
    }
    let (w, h) = (width as usize, height as usize);
    let size = w.min(h) as f32;
    let radius = size * 0.24;
    let ring = (size * 0.05).max(1.0);
    let (cx, cy) = (w as f32 - radius - ring, h as f32 - radius - ring);
    let units_w = glyphs.len() * 4 - 1;
    // The text fits in a box of 1.3 radii: as large as whole pixels allow.
    let scale = ((radius * 1.3) / units_w.max(5) as f32).floor().max(1.0) as usize;
    let (tw, th) = (units_w * scale, 5 * scale);
    let x0 = (cx - tw as f32 / 2.0).round().max(0.0) as usize;
    let y0 = (cy - th as f32 / 2.0).round().max(0.0) as usize;
    for (gi, g) in glyphs.iter().enumerate() {
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let x = x0 + (gi * 4 + col) * scale + dx;
                        let y = y0 + row * scale + dy;
                        if x < w && y < h {
                            let i = (y * w + x) * 4;
                            out[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
                        }
                    }
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RED: [u8; 4] = [255, 0, 0, 255];

    fn pixel(buf: &[u8], w: usize, x: usize, y: usize) -> [u8; 4] {
        let i = (y * w + x) * 4;
        [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]
    }

    #[test]
    fn the_dot_sits_bottom_right_and_the_rest_is_untouched() {
        let (w, h) = (32usize, 32usize);
        let src = vec![7u8; w * h * 4];
        let out = with_badge(&src, w as u32, h as u32, RED).unwrap();
        // centre of the dot: radius 7.68 + ring 1.6 from the edges
        assert_eq!(
            pixel(&out, w, 22, 22),
            RED,
            "the dot is drawn in the given colour"
        );
        assert_eq!(
            pixel(&out, w, 2, 2),
            [7, 7, 7, 7],
            "the top-left of the icon is unchanged"
        );
        assert_eq!(pixel(&out, w, 16, 2), [7, 7, 7, 7]);
        assert_eq!(out.len(), src.len());
    }

    #[test]
    fn the_count_is_written_in_white_inside_the_dot() {
        let (w, h) = (128usize, 128usize);
        let src = vec![7u8; w * h * 4];
        let one = with_count(&src, w as u32, h as u32, RED, "1").unwrap();
        let white = |buf: &[u8]| {
            buf.chunks(4)
                .filter(|p| *p == [0xff, 0xff, 0xff, 0xff])
                .count()
        };
        assert!(white(&one) > 50, "the digit is drawn");
        let eight = with_count(&src, w as u32, h as u32, RED, "8").unwrap();
        assert!(white(&eight) > white(&one), "an 8 has more pixels than a 1");
        // Everything white lies inside the dot (bottom-right quarter).
        for (i, p) in one.chunks(4).enumerate() {
            if p == [0xff, 0xff, 0xff, 0xff] {
                assert!(
                    i % w > w / 2 && i / w > h / 2,
                    "pixel {i} is outside the dot"
                );
            }
        }
        assert_eq!(
            with_count(&src, w as u32, h as u32, RED, "").unwrap(),
            with_badge(&src, w as u32, h as u32, RED).unwrap(),
            "no count: the plain dot"
        );
        let wide = with_count(&src, w as u32, h as u32, RED, "99+").unwrap();
        assert!(white(&wide) > 50, "three characters are drawn, smaller");
        for (i, p) in wide.chunks(4).enumerate() {
            if p == [0xff, 0xff, 0xff, 0xff] {
                assert!(i % w > w / 2 && i / w > h / 2, "99+ leaves the dot at {i}");
            }
        }
    }

    #[test]
    fn a_buffer_of_the_wrong_size_is_refused() {
        assert!(with_badge(&[0u8; 10], 2, 2, RED).is_none());
        assert!(with_badge(&[], 0, 0, RED).is_none());
    }
}
