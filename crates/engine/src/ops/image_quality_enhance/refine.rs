//! The second stage of 2x enhance: a small convolutional network on the low-resolution
//! grid that corrects the hashed filters' luma.
//!
//! The hashed filters are linear per bucket, so they cannot tell a real edge from a
//! texture that happens to hash alike, nor stop at the overshoot a steep edge needs. A
//! handful of 3 × 3 convolutions with ReLUs can. The network reads five planes per
//! low-resolution pixel (its luma, and the first stage's residual over Catmull-Rom for each
//! of the four output pixels it covers) and writes a correction for each of those four,
//! so it runs on a quarter of the output pixels. It is trained by `cargo xtask
//! train-enhance` (`xtask/src/train_refine.rs`) and embedded with `include_bytes!`.
//!
//! Convolutions are "valid" (no padding): the image is padded once by replicating its
//! edges, which is also how the training crops see their surroundings, so the interior
//! is computed exactly as trained. Strips of rows are independent and run in parallel.

use rayon::prelude::*;

use crate::filters::planes::Plane;

/// Input planes: the low-resolution luma and the four phases' first-stage residuals.
pub const INPUTS: usize = 5;
/// Output planes: one correction per output phase.
pub const OUTPUTS: usize = 4;
/// Feature maps of the hidden layers.
pub const CHANNELS: usize = 8;
/// Convolutions (3 × 3 each): one from the inputs, `DEPTH - 2` hidden, one to the outputs.
pub const DEPTH: usize = 4;
/// Low-resolution pixels each side that an output depends on (one per convolution).
pub const REACH: usize = DEPTH;
/// Weights and biases of the whole network.
pub const PARAMETERS: usize = layer_size(INPUTS, CHANNELS)
    + (DEPTH - 2) * layer_size(CHANNELS, CHANNELS)
    + layer_size(CHANNELS, OUTPUTS);

/// Low-resolution rows per parallel strip (the halo costs `2 × REACH` rows per strip).
const STRIP: usize = 64;

const fn layer_size(inputs: usize, outputs: usize) -> usize {
    outputs * inputs * 9 + outputs
}

/// Channels in and out of each convolution, in order.
pub fn shape() -> Vec<(usize, usize)> {
    (0..DEPTH)
        .map(|l| match l {
            0 => (INPUTS, CHANNELS),
            l if l + 1 == DEPTH => (CHANNELS, OUTPUTS),
            _ => (CHANNELS, CHANNELS),
        })
        .collect()
}

/// A stack of feature maps, channel-major: `channels × height × width`.
#[derive(Debug, Clone, PartialEq)]
pub struct Maps {
    /// Number of planes.
    pub channels: usize,
    /// Rows of each plane.
    pub height: usize,
    /// Columns of each plane.
    pub width: usize,
    /// `channels × height × width` samples.
    pub data: Vec<f32>,
}

impl Maps {
    /// Zeroed maps.
    pub fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            data: vec![0.0; channels * height * width],
        }
    }

    /// One plane.
    pub fn plane(&self, c: usize) -> &[f32] {
        &self.data[c * self.height * self.width..][..self.height * self.width]
    }

    /// Row `y` of plane `c`.
    pub fn row(&self, c: usize, y: usize) -> &[f32] {
        &self.data[(c * self.height + y) * self.width..][..self.width]
    }

    /// Row `y` of plane `c`, mutable.
    pub fn row_mut(&mut self, c: usize, y: usize) -> &mut [f32] {
        &mut self.data[(c * self.height + y) * self.width..][..self.width]
    }
}

/// One 3 × 3 convolution: `outputs × inputs × 9` weights (row-major taps), then biases.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Input channels.
    pub inputs: usize,
    /// Output channels.
    pub outputs: usize,
    /// `outputs × inputs × 9` weights.
    pub weights: Vec<f32>,
    /// `outputs` biases.
    pub bias: Vec<f32>,
}

impl Layer {
    /// The nine taps from input `i` to output `o`.
    pub fn taps(&self, o: usize, i: usize) -> &[f32] {
        &self.weights[(o * self.inputs + i) * 9..][..9]
    }

    /// "Valid" convolution of `input` (the output is two smaller each way), then a ReLU
    /// if `relu`.
    pub fn forward(&self, input: &Maps, relu: bool) -> Maps {
        if !self.is_well_formed(input) || !self.outputs.is_multiple_of(GROUP) {
            return self.forward_plain(input, relu);
        }
        // The kernel is inlined into a function that pulp compiles once per instruction
        // set and picks at run time (see `Convolution`).
        pulp::Arch::new().dispatch(Convolution {
            layer: self,
            input,
            relu,
        })
    }

    fn is_well_formed(&self, input: &Maps) -> bool {
        input.channels == self.inputs
            && self.weights.len() == self.outputs * self.inputs * 9
            && self.bias.len() == self.outputs
            && input.data.len() == input.channels * input.height * input.width
    }

    /// The convolution by its definition, one output channel at a time (the reference
    /// the fast kernels are tested against, and the path for other channel counts).
    pub fn forward_plain(&self, input: &Maps, relu: bool) -> Maps {
        let (h, w) = (
            input.height.saturating_sub(2),
            input.width.saturating_sub(2),
        );
        let mut out = Maps::new(self.outputs, h, w);
        for o in 0..self.outputs {
            for y in 0..h {
                let d = out.row_mut(o, y);
                d.fill(self.bias[o]);
                for i in 0..self.inputs {
                    let k = self.taps(o, i);
                    for dy in 0..3 {
                        let r = input.row(i, y + dy);
                        let (a, b, c) = (&r[..w], &r[1..=w], &r[2..w + 2]);
                        let (k0, k1, k2) = (k[3 * dy], k[3 * dy + 1], k[3 * dy + 2]);
                        for x in 0..w {
                            d[x] += k0 * a[x] + k1 * b[x] + k2 * c[x];
                        }
                    }
                }
                if relu {
                    for v in d.iter_mut() {
                        *v = v.max(0.0);
                    }
                }
            }
        }
        out
    }

    /// The weights regrouped for the kernels: for each group of [`GROUP`] output
    /// channels, each input and each tap, the group's weights side by side.
    fn weights_by_group(&self) -> Vec<[f32; GROUP]> {
        let taps = self.inputs * 9;
        let mut by_tap = vec![[0f32; GROUP]; self.outputs / GROUP * taps];
        for (o, chunk) in self.weights.chunks_exact(taps).enumerate() {
            for (t, &v) in chunk.iter().enumerate() {
                by_tap[o / GROUP * taps + t][o % GROUP] = v;
            }
        }
        by_tap
    }

    /// The portable kernel (for machines without AVX2): [`GROUP`] output channels of
    /// four neighbouring pixels accumulated in arrays, which the compiler keeps in SSE
    /// registers.
    fn forward_portable(&self, input: &Maps, relu: bool) -> Maps {
        const PIXELS: usize = 4;
        let (h, w) = (
            input.height.saturating_sub(2),
            input.width.saturating_sub(2),
        );
        let mut out = Maps::new(self.outputs, h, w);
        let taps = self.inputs * 9;
        let by_tap = self.weights_by_group();
        let full = w / PIXELS * PIXELS;
        let mut acc_row = vec![[0f32; GROUP]; w];
        for (g, weights) in by_tap.chunks_exact(taps).enumerate() {
            let bias: [f32; GROUP] = std::array::from_fn(|o| self.bias[g * GROUP + o]);
            for y in 0..h {
                for x0 in (0..full).step_by(PIXELS) {
                    let mut acc = [bias; PIXELS];
                    for (i, k) in weights.chunks_exact(9).enumerate() {
                        for dy in 0..3 {
                            let r = &input.row(i, y + dy)[x0..x0 + PIXELS + 2];
                            for dx in 0..3 {
                                let k = &k[3 * dy + dx];
                                for (a, &s) in acc.iter_mut().zip(&r[dx..dx + PIXELS]) {
                                    for o in 0..GROUP {
                                        a[o] += k[o] * s;
                                    }
                                }
                            }
                        }
                    }
                    acc_row[x0..x0 + PIXELS].copy_from_slice(&acc);
                }
                for (x, a) in acc_row.iter_mut().enumerate().skip(full) {
                    *a = bias;
                    for (i, k) in weights.chunks_exact(9).enumerate() {
                        for dy in 0..3 {
                            let r = input.row(i, y + dy);
                            for dx in 0..3 {
                                for o in 0..GROUP {
                                    a[o] += k[3 * dy + dx][o] * r[x + dx];
                                }
                            }
                        }
                    }
                }
                for o in 0..GROUP {
                    let d = out.row_mut(g * GROUP + o, y);
                    for (v, a) in d.iter_mut().zip(&acc_row) {
                        *v = if relu { a[o].max(0.0) } else { a[o] };
                    }
                }
            }
        }
        out
    }
}

/// Output channels accumulated together by the kernels (channel counts that are a
/// multiple of it take the fast paths).
const GROUP: usize = 4;

/// Vectors of neighbouring pixels per register block of the SIMD kernel: `GROUP × 3`
/// accumulators, three input vectors and one broadcast weight fill AVX2's sixteen
/// registers without spilling.
const VECTORS: usize = 3;

/// One convolution, as pulp's unit of dispatch: `with_simd` is instantiated inside a
/// function compiled for each instruction set, and everything it calls is inlined into
/// it. With vectors of eight or more lanes (AVX2 and up) the SIMD kernel runs, with
/// fused multiply-adds; otherwise the portable one.
struct Convolution<'a> {
    layer: &'a Layer,
    input: &'a Maps,
    relu: bool,
}

impl pulp::WithSimd for Convolution<'_> {
    type Output = Maps;

    #[allow(
        clippy::inline_always,
        reason = "the kernel must be inlined into pulp's per-instruction-set function to be compiled for it"
    )]
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Maps {
        if S::F32_LANES < 8 {
            return self.layer.forward_portable(self.input, self.relu);
        }
        convolve(simd, self.layer, self.input, self.relu)
    }
}

/// The SIMD kernel: each output row in blocks of [`VECTORS`] vectors of neighbouring
/// pixels (single vectors at the end of the row), [`GROUP`] output channels at a time,
/// accumulated in registers over all inputs and taps. Each output sums its bias, then
/// the taps input by input, row by row, as [`Layer::forward_plain`] does, but with
/// fused multiply-adds where the instruction set has them.
#[allow(
    clippy::inline_always,
    reason = "inlined into pulp's per-instruction-set function (see `Convolution`)"
)]
#[inline(always)]
fn convolve<S: pulp::Simd>(simd: S, layer: &Layer, input: &Maps, relu: bool) -> Maps {
    let (h, w) = (
        input.height.saturating_sub(2),
        input.width.saturating_sub(2),
    );
    let lanes = S::F32_LANES;
    if w < lanes {
        return layer.forward_portable(input, relu);
    }
    let mut out = Maps::new(layer.outputs, h, w);
    let by_tap = layer.weights_by_group();
    let taps = layer.inputs * 9;
    let biases: Vec<[f32; GROUP]> = layer
        .bias
        .chunks_exact(GROUP)
        .map(|b| std::array::from_fn(|o| b[o]))
        .collect();
    let wide = VECTORS * lanes;
    // The three input rows under output row `y`, input by input.
    let mut rows: Vec<&[f32]> = Vec::with_capacity(3 * layer.inputs);
    for y in 0..h {
        rows.clear();
        for i in 0..layer.inputs {
            rows.extend((0..3).map(|dy| input.row(i, y + dy)));
        }
        let mut x = 0;
        while x < w {
            // Full blocks, then single vectors; the last one may overlap its
            // predecessor (recomputing the same values).
            let (x0, count) = if w - x >= wide {
                (x, VECTORS)
            } else {
                (x.min(w - lanes), 1)
            };
            for (g, (weights, &bias)) in by_tap.chunks_exact(taps).zip(&biases).enumerate() {
                let dst = Destination {
                    maps: &mut out,
                    channel: g * GROUP,
                    y,
                    x: x0,
                    relu,
                };
                if count == VECTORS {
                    dst.store(simd, &block::<S, VECTORS>(simd, weights, bias, &rows, x0));
                } else {
                    dst.store(simd, &block::<S, 1>(simd, weights, bias, &rows, x0));
                }
            }
            x = x0 + count * lanes;
        }
    }
    out
}

/// Where a register block's sums go: from column `x` of row `y` of [`GROUP`] planes
/// from `channel` on.
struct Destination<'a> {
    maps: &'a mut Maps,
    channel: usize,
    y: usize,
    x: usize,
    relu: bool,
}

impl Destination<'_> {
    #[allow(
        clippy::inline_always,
        reason = "inlined into pulp's per-instruction-set function (see `Convolution`)"
    )]
    #[inline(always)]
    fn store<S: pulp::Simd>(self, simd: S, sums: &[[S::f32s; GROUP]]) {
        let lanes = S::F32_LANES;
        let zero = simd.splat_f32s(0.0);
        for o in 0..GROUP {
            let row = self.maps.row_mut(self.channel + o, self.y);
            let d = &mut row[self.x..self.x + sums.len() * lanes];
            for (chunk, a) in d.chunks_exact_mut(lanes).zip(sums) {
                let v = if self.relu {
                    simd.max_f32s(a[o], zero)
                } else {
                    a[o]
                };
                S::as_mut_simd_f32s(chunk).0[0] = v;
            }
        }
    }
}

/// The sums of one register block: `P` vectors of pixels from column `x` on, for the
/// [`GROUP`] output channels whose weights are `weights` (input by input, nine taps
/// each), over the input `rows` (three per input).
#[allow(
    clippy::inline_always,
    reason = "inlined into pulp's per-instruction-set function (see `Convolution`)"
)]
#[inline(always)]
fn block<S: pulp::Simd, const P: usize>(
    simd: S,
    weights: &[[f32; GROUP]],
    bias: [f32; GROUP],
    rows: &[&[f32]],
    x: usize,
) -> [[S::f32s; GROUP]; P] {
    let lanes = S::F32_LANES;
    let mut acc = [bias.map(|b| simd.splat_f32s(b)); P];
    for (k, three) in weights.chunks_exact(9).zip(rows.chunks_exact(3)) {
        for (dy, row) in three.iter().enumerate() {
            let row = &row[x..x + P * lanes + 2];
            for dx in 0..3 {
                let k = &k[3 * dy + dx];
                let v: [S::f32s; P] =
                    std::array::from_fn(|p| S::as_simd_f32s(&row[dx + p * lanes..][..lanes]).0[0]);
                for o in 0..GROUP {
                    let weight = simd.splat_f32s(k[o]);
                    for (a, &v) in acc.iter_mut().zip(&v) {
                        a[o] = simd.mul_add_e_f32s(weight, v, a[o]);
                    }
                }
            }
        }
    }
    acc
}

/// The network: [`DEPTH`] convolutions, ReLU after all but the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// The convolutions in order.
    pub layers: Vec<Layer>,
}

impl Net {
    /// A network whose output is zero everywhere (the first stage unchanged).
    pub fn zero() -> Self {
        Self::from_values(&vec![0.0; PARAMETERS]).unwrap_or(Self { layers: Vec::new() })
    }

    /// All weights and biases, layer by layer (weights, then biases).
    pub fn values(&self) -> impl Iterator<Item = f32> + '_ {
        self.layers
            .iter()
            .flat_map(|l| l.weights.iter().chain(&l.bias).copied())
    }

    /// The network of [`PARAMETERS`] values in the order [`Net::values`] gives.
    pub fn from_values(values: &[f32]) -> Option<Self> {
        if values.len() != PARAMETERS {
            return None;
        }
        let mut rest = values;
        let layers = shape()
            .into_iter()
            .map(|(inputs, outputs)| {
                let (weights, tail) = rest.split_at(outputs * inputs * 9);
                let (bias, tail) = tail.split_at(outputs);
                rest = tail;
                Layer {
                    inputs,
                    outputs,
                    weights: weights.to_vec(),
                    bias: bias.to_vec(),
                }
            })
            .collect();
        Some(Self { layers })
    }

    /// The correction planes for `input` (`INPUTS` maps), `REACH` smaller each side.
    pub fn forward(&self, input: &Maps) -> Maps {
        let mut x = input.clone();
        for (l, layer) in self.layers.iter().enumerate() {
            x = layer.forward(&x, l + 1 < self.layers.len());
        }
        x
    }
}

const MAGIC: &[u8; 8] = b"BDIPCNN1";

fn layout(nets: usize) -> [usize; 5] {
    [INPUTS, CHANNELS, DEPTH, OUTPUTS, nets]
}

/// Serialises `nets` (one per bank) as a model file.
pub fn nets_to_bytes(nets: &[Net]) -> Vec<u8> {
    let values = nets.iter().flat_map(Net::values).collect::<Vec<_>>();
    crate::model_file::write(*MAGIC, &layout(nets.len()), values)
}

/// Parses and validates a model file of `count` networks.
pub fn nets_from_bytes(bytes: &[u8], count: usize) -> Result<Vec<Net>, String> {
    let values =
        crate::model_file::read(bytes, "enhance", *MAGIC, &layout(count), count * PARAMETERS)?;
    values
        .chunks_exact(PARAMETERS)
        .map(|v| Net::from_values(v).ok_or_else(|| "enhance second stage: bad size".to_string()))
        .collect()
}

/// The network's input for low-resolution rows `y0 .. y0 + rows`, with `REACH` pixels of
/// context on every side (edges replicated): the luma centred on zero, and the four
/// phases of `residual` (a `2w × 2h` plane).
pub fn input_maps(luma: &Plane, residual: &[f32], y0: usize, rows: usize) -> Maps {
    let (w, h) = (luma.width, luma.height);
    let (mh, mw) = (rows + 2 * REACH, w + 2 * REACH);
    let mut maps = Maps::new(INPUTS, mh, mw);
    if w == 0 || h == 0 {
        return maps;
    }
    let clamp = |v: usize, n: usize| v.saturating_sub(REACH).min(n - 1);
    for my in 0..mh {
        let y = clamp(y0 + my, h);
        let src = &luma.data[y * w..(y + 1) * w];
        for (mx, v) in maps.row_mut(0, my).iter_mut().enumerate() {
            *v = src[clamp(mx, w)] - 0.5;
        }
        for phase in 0..OUTPUTS {
            let (py, px) = (phase / 2, phase % 2);
            let hr = &residual[(2 * y + py) * 2 * w..][..2 * w];
            for (mx, v) in maps.row_mut(1 + phase, my).iter_mut().enumerate() {
                *v = hr[2 * clamp(mx, w) + px];
            }
        }
    }
    maps
}

/// `residual` (the first stage's `2w × 2h` luma residual over Catmull-Rom of the
/// `w × h` image whose luma is `luma`) plus the network's corrections.
pub fn apply(net: &Net, luma: &Plane, residual: &[f32]) -> Vec<f32> {
    let (w, h) = (luma.width, luma.height);
    let ow = 2 * w;
    let mut out = residual.to_vec();
    if w == 0 || h == 0 || residual.len() != ow * 2 * h {
        return out;
    }
    out.par_chunks_mut(2 * ow * STRIP)
        .enumerate()
        .for_each(|(s, chunk)| {
            let y0 = s * STRIP;
            let rows = chunk.len() / (2 * ow);
            let delta = net.forward(&input_maps(luma, residual, y0, rows));
            if delta.height != rows || delta.width != w {
                return;
            }
            for phase in 0..OUTPUTS {
                let (py, px) = (phase / 2, phase % 2);
                for y in 0..rows {
                    let dst = &mut chunk[(2 * y + py) * ow..][..ow];
                    for (x, &d) in delta.row(phase, y).iter().enumerate() {
                        dst[2 * x + px] += d;
                    }
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_net(seed: u64) -> Net {
        let mut rng = fastrand::Rng::with_seed(seed);
        let values: Vec<f32> = (0..PARAMETERS).map(|_| rng.f32() * 0.4 - 0.2).collect();
        Net::from_values(&values).expect("parameter count")
    }

    fn plane(w: usize, h: usize) -> Plane {
        Plane::from_fn(w, h, |x, y| ((x * 7 + y * 13) % 23) as f32 / 23.0)
    }

    #[test]
    fn the_zero_network_changes_nothing() {
        let luma = plane(19, 11);
        let residual: Vec<f32> = (0..38 * 22).map(|i| (i % 5) as f32 * 0.01).collect();
        assert_eq!(apply(&Net::zero(), &luma, &residual), residual);
    }

    #[test]
    fn strips_agree_with_one_pass_over_the_whole_image() {
        // Strips recompute their halo from the same clamped input, so the result must
        // not depend on where the strip boundaries fall.
        let (w, h) = (23, 2 * STRIP + 5);
        let luma = plane(w, h);
        let residual: Vec<f32> = (0..4 * w * h)
            .map(|i| ((i * 31) % 17) as f32 * 0.003)
            .collect();
        let net = random_net(3);
        let ours = apply(&net, &luma, &residual);
        let whole = net.forward(&input_maps(&luma, &residual, 0, h));
        for y in 0..h {
            for x in 0..w {
                for phase in 0..OUTPUTS {
                    let i = (2 * y + phase / 2) * 2 * w + 2 * x + phase % 2;
                    let expected = residual[i] + whole.row(phase, y)[x];
                    assert!(
                        (ours[i] - expected).abs() < 1e-6,
                        "({x}, {y}) phase {phase}"
                    );
                }
            }
        }
    }

    #[test]
    fn model_files_round_trip_and_reject_corruption() {
        let nets = vec![random_net(1), random_net(2)];
        let bytes = nets_to_bytes(&nets);
        assert_eq!(nets_from_bytes(&bytes, 2), Ok(nets));
        let mut bad = bytes.clone();
        bad[40] ^= 1;
        assert!(nets_from_bytes(&bad, 2).is_err());
        assert!(nets_from_bytes(&bytes, 1).is_err());
        assert!(nets_from_bytes(b"", 2).is_err());
    }

    fn random_layer(inputs: usize, outputs: usize, seed: u64) -> Layer {
        let mut rng = fastrand::Rng::with_seed(seed);
        Layer {
            inputs,
            outputs,
            weights: (0..outputs * inputs * 9)
                .map(|_| rng.f32() * 0.4 - 0.2)
                .collect(),
            bias: (0..outputs).map(|_| rng.f32() * 0.2 - 0.1).collect(),
        }
    }

    fn random_maps(channels: usize, height: usize, width: usize, seed: u64) -> Maps {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut maps = Maps::new(channels, height, width);
        maps.data.iter_mut().for_each(|v| *v = rng.f32() - 0.5);
        maps
    }

    #[test]
    fn the_fast_kernels_match_the_plain_one() {
        // The network's layers and those of wider variants (12 and 16 channels), on
        // widths below, at and between the SIMD kernel's block sizes (8 and 24 pixels
        // with AVX2), so full blocks, single vectors and the overlapping last vector
        // all run; (3, 5) takes the plain path.
        let shapes = [
            (5, 8),
            (8, 8),
            (8, 4),
            (5, 12),
            (12, 12),
            (12, 4),
            (16, 16),
            (8, 16),
            (16, 4),
            (3, 5),
        ];
        for (s, &(inputs, outputs)) in shapes.iter().enumerate() {
            let layer = random_layer(inputs, outputs, s as u64);
            for (h, w) in [(3, 3), (5, 9), (4, 10), (6, 26), (7, 27), (5, 43), (4, 60)] {
                let input = random_maps(inputs, h, w, (h * w) as u64);
                for relu in [false, true] {
                    let plain = layer.forward_plain(&input, relu);
                    let mut fast = vec![("dispatched", layer.forward(&input, relu))];
                    if outputs.is_multiple_of(GROUP) {
                        fast.push(("portable", layer.forward_portable(&input, relu)));
                    }
                    for (path, out) in fast {
                        let at = format!("{path} {inputs}->{outputs} on {w}x{h}, relu {relu}");
                        assert_eq!(
                            (out.channels, out.height, out.width),
                            (plain.channels, plain.height, plain.width),
                            "{at}"
                        );
                        for (p, q) in out.data.iter().zip(&plain.data) {
                            assert!((p - q).abs() <= 1e-5 * q.abs().max(1.0), "{at}: {p} vs {q}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn values_round_trip() {
        let net = random_net(5);
        let values: Vec<f32> = net.values().collect();
        assert_eq!(values.len(), PARAMETERS);
        assert_eq!(Net::from_values(&values), Some(net));
        assert_eq!(Net::from_values(&values[1..]), None);
    }

    #[test]
    fn a_convolution_matches_its_definition() {
        let layer = Layer {
            inputs: 2,
            outputs: 1,
            weights: (0..18).map(|i| i as f32 * 0.1 - 0.9).collect(),
            bias: vec![0.25],
        };
        let mut input = Maps::new(2, 4, 5);
        for (i, v) in input.data.iter_mut().enumerate() {
            *v = ((i * 7) % 11) as f32 * 0.1;
        }
        let out = layer.forward(&input, false);
        assert_eq!((out.height, out.width), (2, 3));
        for y in 0..2 {
            for x in 0..3 {
                let mut s = 0.25;
                for i in 0..2 {
                    for dy in 0..3 {
                        for dx in 0..3 {
                            s += layer.taps(0, i)[3 * dy + dx] * input.row(i, y + dy)[x + dx];
                        }
                    }
                }
                assert!((out.row(0, y)[x] - s).abs() < 1e-5);
            }
        }
    }
}
