//! Draws the health dot onto the app icon for the tray (plain RGBA pixels, no image crate).

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
    fn a_buffer_of_the_wrong_size_is_refused() {
        assert!(with_badge(&[0u8; 10], 2, 2, RED).is_none());
        assert!(with_badge(&[], 0, 0, RED).is_none());
    }
}
