//! Helpers the restoration operations share: an orthonormal luma-chroma transform (so
//! white noise keeps its σ in every channel).

use crate::filters::planes::Plane;

const INV_SQRT3: f32 = 0.577_350_26;
const INV_SQRT2: f32 = 0.707_106_77;
const INV_SQRT6: f32 = 0.408_248_3;

/// RGB planes to an orthonormal opponent space: luma `(R+G+B)/√3`, and two chroma
/// axes. Orthonormal, so Gaussian noise of σ per RGB channel stays σ in each.
pub(crate) fn to_opponent(rgb: &[Plane; 3]) -> [Plane; 3] {
    let [r, g, b] = rgb;
    let luma = r.zip(g, |r, g| r + g).zip(b, |rg, b| (rg + b) * INV_SQRT3);
    let red_blue = r.zip(b, |r, b| (r - b) * INV_SQRT2);
    let green = r
        .zip(b, |r, b| r + b)
        .zip(g, |rb, g| (rb - 2.0 * g) * INV_SQRT6);
    [luma, red_blue, green]
}

/// The inverse of [`to_opponent`].
pub(crate) fn from_opponent(opp: &[Plane; 3]) -> [Plane; 3] {
    let [l, rb, gm] = opp;
    let lg = l.zip(gm, |l, g| l * INV_SQRT3 + g * INV_SQRT6);
    let r = lg.zip(rb, |lg, rb| lg + rb * INV_SQRT2);
    let b = lg.zip(rb, |lg, rb| lg - rb * INV_SQRT2);
    let g = l.zip(gm, |l, g| l * INV_SQRT3 - 2.0 * g * INV_SQRT6);
    [r, g, b]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opponent_round_trips() {
        let p = |s: usize| Plane::from_fn(7, 5, move |x, y| ((x * s + y * 3) % 11) as f32 / 11.0);
        let rgb = [p(1), p(2), p(5)];
        let back = from_opponent(&to_opponent(&rgb));
        for c in 0..3 {
            for (a, b) in back[c].data.iter().zip(&rgb[c].data) {
                assert!((a - b).abs() < 1e-5);
            }
        }
    }
}
