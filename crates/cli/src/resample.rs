//! Area-average (box) downscaling fed one source row at a time, so that `--fit` can shrink
//! an image far larger than memory: it holds the output, one source row and two output rows
//! of sums, never the source.
//!
//! Each output pixel is the mean of the source area it covers, partial pixels at its edges
//! weighted by the fraction covered. Colour is averaged premultiplied by alpha when there is
//! an alpha channel, so that the colour of fully transparent pixels does not bleed in.

/// Where one output column takes its source pixels: `len` pixels from `start`, with their
/// weights at `weights[first..first + len]`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    len: usize,
    first: usize,
}

/// An area-average downscaler of interleaved 8-bit rows (`channels` samples a pixel, the
/// last of them alpha when `alpha`).
#[derive(Debug)]
pub struct BoxResampler {
    channels: usize,
    alpha: bool,
    src: (u32, u32),
    out: (u32, u32),
    spans: Vec<Span>,
    weights: Vec<f32>,
    /// The current source row, resampled across: `out.0 * channels` values.
    across: Vec<f32>,
    /// Sums of the output row being gathered, and of the next one (a source row can
    /// straddle two output rows).
    sums: [Vec<f32>; 2],
    /// The output row `sums[0]` gathers.
    out_y: u32,
    /// Source rows taken so far.
    src_y: u32,
    pixels: Vec<u8>,
}

/// The source interval `[lo, hi)` of output index `j`, in units of 1/`out` source pixels
/// (so every boundary is an integer): output `j` covers `[j·src, (j+1)·src)`.
fn bounds(j: u64, src: u64) -> (u64, u64) {
    (j * src, (j + 1) * src)
}

impl BoxResampler {
    /// A downscaler from `src` to `out` (each side clamped to 1..=the source's: this never
    /// enlarges). `channels` is 1 to 4.
    pub fn new(src: (u32, u32), out: (u32, u32), channels: usize, alpha: bool) -> Self {
        let src = (src.0.max(1), src.1.max(1));
        let out = (out.0.clamp(1, src.0), out.1.clamp(1, src.1));
        let (sw, ow) = (u64::from(src.0), u64::from(out.0));
        let mut spans = Vec::with_capacity(out.0 as usize);
        let mut weights = Vec::new();
        for j in 0..ow {
            let (lo, hi) = bounds(j, sw);
            // Source pixel x covers [x·ow, (x+1)·ow).
            let (first_x, last_x) = (lo / ow, (hi - 1) / ow);
            let first = weights.len();
            for x in first_x..=last_x {
                let overlap = hi.min((x + 1) * ow) - lo.max(x * ow);
                weights.push(overlap as f32 / sw as f32);
            }
            spans.push(Span {
                start: first_x as usize,
                len: (last_x - first_x + 1) as usize,
                first,
            });
        }
        let row = out.0 as usize * channels;
        Self {
            channels,
            alpha,
            src,
            out,
            spans,
            weights,
            across: vec![0.0; row],
            sums: [vec![0.0; row], vec![0.0; row]],
            out_y: 0,
            src_y: 0,
            pixels: Vec::with_capacity(row * out.1 as usize),
        }
    }

    /// The output size.
    pub fn out_size(&self) -> (u32, u32) {
        self.out
    }

    /// Source rows still expected.
    pub fn rows_left(&self) -> u32 {
        self.src.1 - self.src_y
    }

    /// Takes the next source row (`src.0 * channels` samples; a longer row is cut, a
    /// shorter one padded with zeros). Rows after the last are ignored.
    pub fn push_row(&mut self, row: &[u8]) {
        if self.src_y >= self.src.1 {
            return;
        }
        self.resample_across(row);
        let (sh, oh) = (u64::from(self.src.1), u64::from(self.out.1));
        let y = u64::from(self.src_y);
        // Source row y covers [y·oh, (y+1)·oh).
        let (lo, hi) = (y * oh, (y + 1) * oh);
        for (slot, j) in [(0usize, self.out_y), (1, self.out_y + 1)] {
            if j >= self.out.1 {
                break;
            }
            let (jlo, jhi) = bounds(u64::from(j), sh);
            let overlap = hi.min(jhi).saturating_sub(lo.max(jlo));
            if overlap == 0 {
                continue;
            }
            let w = overlap as f32 / sh as f32;
            for (s, a) in self.sums[slot].iter_mut().zip(&self.across) {
                *s += w * a;
            }
        }
        self.src_y += 1;
        // Output row out_y is complete once the source has reached its end.
        if u64::from(self.src_y) * oh >= bounds(u64::from(self.out_y), sh).1 {
            self.emit_row();
        }
    }

    /// Resamples `row` across into `self.across`, colour premultiplied by alpha.
    fn resample_across(&mut self, row: &[u8]) {
        let c = self.channels;
        let width = self.src.0 as usize;
        self.across.fill(0.0);
        let sample = |i: usize| f32::from(row.get(i).copied().unwrap_or(0));
        for (j, span) in self.spans.iter().enumerate() {
            let out = &mut self.across[j * c..(j + 1) * c];
            let weights = &self.weights[span.first..span.first + span.len];
            for (k, &w) in weights.iter().enumerate() {
                let x = (span.start + k).min(width - 1);
                let base = x * c;
                if self.alpha {
                    let a = sample(base + c - 1);
                    for (ch, o) in out[..c - 1].iter_mut().enumerate() {
                        *o += w * sample(base + ch) * a;
                    }
                    out[c - 1] += w * a;
                } else {
                    for (ch, o) in out.iter_mut().enumerate() {
                        *o += w * sample(base + ch);
                    }
                }
            }
        }
    }

    /// Writes the gathered output row and starts the next.
    fn emit_row(&mut self) {
        let c = self.channels;
        for px in self.sums[0].chunks_exact(c) {
            if self.alpha {
                let a = px[c - 1];
                for &v in &px[..c - 1] {
                    let colour = if a > 0.0 { v / a } else { 0.0 };
                    self.pixels.push(to_u8(colour));
                }
                self.pixels.push(to_u8(a));
            } else {
                self.pixels.extend(px.iter().map(|&v| to_u8(v)));
            }
        }
        self.sums.swap(0, 1);
        self.sums[1].fill(0.0);
        self.out_y += 1;
    }

    /// The output pixels, interleaved, once every source row was pushed; `None` before.
    pub fn finish(self) -> Option<Vec<u8>> {
        (self.src_y >= self.src.1 && self.out_y >= self.out.1).then_some(self.pixels)
    }
}

fn to_u8(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: (u32, u32), out: (u32, u32), c: usize, alpha: bool, data: &[u8]) -> Vec<u8> {
        let mut r = BoxResampler::new(src, out, c, alpha);
        for row in data.chunks(src.0 as usize * c) {
            r.push_row(row);
        }
        r.finish().expect("every row was pushed")
    }

    #[test]
    fn halving_averages_each_2_by_2_square() {
        #[rustfmt::skip]
        let src = [
            0, 4, 100, 200,
            8, 12, 50, 10,
            1, 1, 255, 255,
            3, 3, 255, 255,
        ];
        assert_eq!(run((4, 4), (2, 2), 1, false, &src), [6, 90, 2, 255]);
    }

    #[test]
    fn fractional_spans_weigh_partial_pixels_by_the_area_covered() {
        // 3 → 2: output 0 covers source [0, 1.5), output 1 covers [1.5, 3).
        assert_eq!(run((3, 1), (2, 1), 1, false, &[0, 30, 60]), [10, 50]);
        // The same down a column.
        assert_eq!(run((1, 3), (1, 2), 1, false, &[0, 30, 60]), [10, 50]);
        // 5 → 2 both ways: each output averages a 2.5 × 2.5 area.
        let src: Vec<u8> = (0..25).map(|i| if i % 5 < 2 { 100 } else { 0 }).collect();
        // Columns 0, 1 are 100 and column 2 half-counted: (100 + 100 + 0·0.5) / 2.5 = 80.
        assert_eq!(run((5, 5), (2, 2), 1, false, &src), [80, 0, 80, 0]);
    }

    #[test]
    fn channels_stay_apart_and_equal_sizes_copy() {
        let src = [10, 20, 30, 40, 50, 60];
        assert_eq!(run((2, 1), (1, 1), 3, false, &src), [25, 35, 45]);
        assert_eq!(run((2, 1), (2, 1), 3, false, &src), src);
        // Never enlarges: a larger target is clamped to the source.
        assert_eq!(run((2, 1), (9, 9), 3, false, &src), src);
    }

    #[test]
    fn transparent_colour_does_not_bleed() {
        // An opaque red pixel beside a transparent green one: the colour stays red.
        let src = [255, 0, 0, 255, 0, 255, 0, 0];
        assert_eq!(run((2, 1), (1, 1), 4, true, &src), [255, 0, 0, 128]);
        // Fully transparent everywhere: black, transparent.
        assert_eq!(run((2, 1), (1, 1), 2, true, &[9, 0, 7, 0]), [0, 0]);
    }

    #[test]
    fn a_large_reduction_keeps_the_mean() {
        // 1000 × 3 of a 0/255 checkerboard to 7 × 1: every output is close to 127.5.
        let (w, h) = (1000u32, 3u32);
        let src: Vec<u8> = (0..w * h)
            .map(|i| if (i % w + i / w) % 2 == 0 { 255 } else { 0 })
            .collect();
        for v in run((w, h), (7, 1), 1, false, &src) {
            assert!((126..=129).contains(&v), "{v}");
        }
    }

    #[test]
    fn output_is_withheld_until_every_row_arrived() {
        let mut r = BoxResampler::new((2, 4), (1, 2), 1, false);
        for _ in 0..3 {
            r.push_row(&[1, 1]);
        }
        assert_eq!(r.rows_left(), 1);
        assert!(r.finish().is_none());
    }
}
