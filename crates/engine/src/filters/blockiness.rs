//! How blocky an image is: the 8 × 8 grid a JPEG leaves, measured on luma.

use rayon::prelude::*;

use crate::filters::planes::Plane;

/// Blockiness of a plane: the mean step across the boundaries of the 8 × 8 grid over the
/// mean step inside the blocks (about 1 for a clean photo; JPEG raises it).
pub fn blockiness(img: &Plane) -> f32 {
    let (w, h) = (img.width, img.height);
    if w < 16 || h < 16 {
        return 1.0;
    }
    let rows: Vec<[f64; 4]> = (0..h)
        .into_par_iter()
        .map(|y| {
            let mut acc = [0f64; 4];
            let row = &img.data[y * w..(y + 1) * w];
            let below = (y + 1 < h).then(|| &img.data[(y + 1) * w..(y + 2) * w]);
            for x in 0..w {
                if x + 1 < w {
                    let d = f64::from((row[x + 1] - row[x]).abs());
                    let k = if (x + 1) % 8 == 0 { 0 } else { 2 };
                    acc[k] += d;
                    acc[k + 1] += 1.0;
                }
                if let Some(b) = below {
                    let d = f64::from((b[x] - row[x]).abs());
                    let k = if (y + 1) % 8 == 0 { 0 } else { 2 };
                    acc[k] += d;
                    acc[k + 1] += 1.0;
                }
            }
            acc
        })
        .collect();
    let mut t = [0f64; 4];
    for r in rows {
        for (a, b) in t.iter_mut().zip(r) {
            *a += b;
        }
    }
    let edge = t[0] / t[1].max(1.0);
    let inner = t[2] / t[3].max(1.0);
    (edge / inner.max(1e-9)) as f32
}
