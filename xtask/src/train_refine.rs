//! The second stage of 2x enhance (`enhance::refine`): trains one small convolutional
//! network per bank to correct the hashed filters' luma, and writes
//! crates/engine/models/enhance-refine.bin. Run by `cargo xtask train-enhance` after the
//! filters (or alone with `--refine-only`, on the filters already in the model file).
//!
//! Data: each training photo at the harness's size, in its 8 flips and rotations,
//! 2x area-downscaled as the harness degrades it (and JPEG-compressed for the compressed
//! bank, quality by rotation), run through the first stage; the target is the truth's luma
//! minus the first stage's prediction. Training: Adam on the mean squared error over
//! random crops, the last layer starting at zero (so the network starts as "no change").
//!
//! Reproducible: crops come from one seeded generator; each crop's gradient is computed
//! sequentially and the batch's gradients are summed in crop order, so the result is
//! bit-identical at any thread count.

use std::time::Instant;

use baidu_imageprocess_engine::training::ops::image_quality_enhance::{
    self as enhance, BANKS,
    refine::{self, Layer, Maps, Net, OUTPUTS, PARAMETERS, REACH},
};
use baidu_imageprocess_engine::training::planes::{self, Plane};
use image::RgbImage;
use rayon::prelude::*;

use crate::quality::{crop_even, downscale_2x, jpeg_round_trip, prepare};
use crate::train_enhance::{EXTRA_SCALES, JPEG_QUALITIES, at_side, dihedral};

pub const REFINE_PATH: &str = "crates/engine/models/enhance-refine.bin";

/// Training schedule.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Adam steps.
    pub steps: usize,
    /// Crops per step.
    pub batch: usize,
    /// Output side of a crop, in low-resolution pixels.
    pub patch: usize,
    /// Learning rate (divided by 5 for the last 30 % of the steps).
    pub rate: f32,
    /// Seed of the crop generator and the initial weights.
    pub seed: u64,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            steps: 12_000,
            batch: 16,
            patch: 40,
            rate: 1e-3,
            seed: 7,
        }
    }
}

/// One training image: the network's padded input and the target corrections.
pub struct Example {
    input: Maps,
    target: Maps,
}

impl Example {
    /// From the first stage's view of a low-resolution image and the truth's luma.
    pub fn new(stage: &enhance::FirstStage, truth: &Plane) -> Self {
        let (w, h) = (stage.luma.width, stage.luma.height);
        let input = refine::input_maps(&stage.luma, &stage.residual, 0, h);
        let cubic = planes::upscale_2x(&stage.luma);
        let mut target = Maps::new(OUTPUTS, h, w);
        for phase in 0..OUTPUTS {
            let (py, px) = (phase / 2, phase % 2);
            for y in 0..h {
                let hy = 2 * y + py;
                let row = target.row_mut(phase, y);
                for (x, t) in row.iter_mut().enumerate() {
                    let i = hy * 2 * w + 2 * x + px;
                    *t = truth.data[hy * truth.width + 2 * x + px]
                        - cubic.data[i]
                        - stage.residual[i];
                }
            }
        }
        Self { input, target }
    }

    /// The crop whose outputs are rows `y..y + p`, columns `x..x + p`.
    fn crop(&self, x: usize, y: usize, p: usize) -> (Maps, Maps) {
        let cut = |m: &Maps, x: usize, y: usize, side: usize| {
            let mut out = Maps::new(m.channels, side, side);
            for c in 0..m.channels {
                for r in 0..side {
                    out.row_mut(c, r)
                        .copy_from_slice(&m.row(c, y + r)[x..x + side]);
                }
            }
            out
        };
        (
            cut(&self.input, x, y, p + 2 * REACH),
            cut(&self.target, x, y, p),
        )
    }
}

/// The examples of one photo for `bank`: 8 flips and rotations at the harness's size.
pub fn examples(model: &enhance::Model, photo: &RgbImage, bank: usize) -> Vec<Example> {
    let scales: Vec<RgbImage> = std::iter::once(prepare(photo))
        .chain(EXTRA_SCALES.iter().map(|&s| at_side(photo, s)))
        .collect();
    scales
        .iter()
        .flat_map(|img| (0..8).map(move |k| (img, k)))
        .map(|(img, k)| {
            let hr = crop_even(&dihedral(img, k));
            let lr = downscale_2x(&hr);
            let lr = if bank == enhance::COMPRESSED {
                jpeg_round_trip(&lr, JPEG_QUALITIES[k])
            } else {
                lr
            };
            let stage = enhance::first_stage_with(model, &lr, bank);
            Example::new(&stage, &enhance::luma_plane(&hr))
        })
        .collect()
}

/// 8-lane dot product (vectorises; the lane order is fixed, so it is deterministic).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// The sum of `a` in [`dot`]'s lane order (so equal to `dot(a, ones)` to the bit),
/// without a vector of ones to multiply by.
fn lane_sum(a: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = a.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for x in chunks {
        for l in 0..8 {
            acc[l] += x[l];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Adds `layer`'s weight and bias gradients for output gradient `g` and input `input`
/// to `grad` (weights then biases, as `Net::values` orders them); returns the gradient
/// with respect to the input if `want_input`.
fn layer_backward(
    layer: &Layer,
    input: &Maps,
    g: &Maps,
    grad: &mut [f32],
    want_input: bool,
) -> Option<Maps> {
    let (h, w) = (g.height, g.width);
    let (weights, bias) = grad.split_at_mut(layer.weights.len());
    for o in 0..layer.outputs {
        for i in 0..layer.inputs {
            let taps = &mut weights[(o * layer.inputs + i) * 9..][..9];
            for y in 0..h {
                let go = g.row(o, y);
                for dy in 0..3 {
                    let r = input.row(i, y + dy);
                    for dx in 0..3 {
                        taps[3 * dy + dx] += dot(go, &r[dx..dx + w]);
                    }
                }
            }
        }
        bias[o] += (0..h).map(|y| lane_sum(g.row(o, y))).sum::<f32>();
    }
    if !want_input {
        return None;
    }
    let mut gin = Maps::new(layer.inputs, input.height, input.width);
    for o in 0..layer.outputs {
        for i in 0..layer.inputs {
            let k = layer.taps(o, i);
            for y in 0..h {
                let go = g.row(o, y);
                for dy in 0..3 {
                    let row = gin.row_mut(i, y + dy);
                    for dx in 0..3 {
                        let kv = k[3 * dy + dx];
                        for (d, &v) in row[dx..dx + w].iter_mut().zip(go) {
                            *d += kv * v;
                        }
                    }
                }
            }
        }
    }
    Some(gin)
}

/// The summed squared error of `net` on one crop, and its gradient (scaled by `scale`)
/// added to `grad`.
pub fn crop_gradient(net: &Net, input: &Maps, target: &Maps, scale: f32, grad: &mut [f32]) -> f64 {
    let mut acts = vec![input.clone()];
    for (l, layer) in net.layers.iter().enumerate() {
        let next = layer.forward(&acts[l], l + 1 < net.layers.len());
        acts.push(next);
    }
    let out = &acts[net.layers.len()];
    let mut g = Maps::new(out.channels, out.height, out.width);
    let mut loss = 0f64;
    for ((gv, &o), &t) in g.data.iter_mut().zip(&out.data).zip(&target.data) {
        let e = o - t;
        loss += f64::from(e * e);
        *gv = 2.0 * e * scale;
    }
    // Each layer's slice of the gradient, in `Net::values` order.
    let mut offsets = Vec::with_capacity(net.layers.len());
    let mut at = 0;
    for layer in &net.layers {
        offsets.push(at);
        at += layer.weights.len() + layer.bias.len();
    }
    for l in (0..net.layers.len()).rev() {
        let layer = &net.layers[l];
        if l + 1 < net.layers.len() {
            for (gv, &a) in g.data.iter_mut().zip(&acts[l + 1].data) {
                if a <= 0.0 {
                    *gv = 0.0;
                }
            }
        }
        let size = layer.weights.len() + layer.bias.len();
        let slice = &mut grad[offsets[l]..offsets[l] + size];
        match layer_backward(layer, &acts[l], &g, slice, l > 0) {
            Some(next) => g = next,
            None => break,
        }
    }
    loss
}

/// Adam's state.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl Adam {
    fn new(n: usize) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    fn step(&mut self, params: &mut [f32], grad: &[f32], rate: f32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let (c1, c2) = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
        for ((p, g), (m, v)) in params
            .iter_mut()
            .zip(grad)
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *p -= rate * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
        }
    }
}

/// Initial weights: uniform in ±1/√fan-in (PyTorch's default), the last layer zero.
fn initial(rng: &mut fastrand::Rng) -> Vec<f32> {
    let mut values = Vec::with_capacity(PARAMETERS);
    let shape = refine::shape();
    for (l, &(inputs, outputs)) in shape.iter().enumerate() {
        let bound = 1.0 / ((inputs * 9) as f32).sqrt();
        let last = l + 1 == shape.len();
        for _ in 0..outputs * inputs * 9 + outputs {
            values.push(if last {
                0.0
            } else {
                (rng.f32() * 2.0 - 1.0) * bound
            });
        }
    }
    values
}

/// Trains one network on `examples`; `log` gets the mean squared error now and then.
pub fn train(examples: &[Example], schedule: Schedule, mut log: impl FnMut(usize, f64)) -> Net {
    let mut rng = fastrand::Rng::with_seed(schedule.seed);
    let mut params = initial(&mut rng);
    let mut adam = Adam::new(params.len());
    let p = schedule.patch;
    let usable: Vec<&Example> = examples
        .iter()
        .filter(|e| e.target.height >= p && e.target.width >= p)
        .collect();
    let Some(fallback) = Net::from_values(&params) else {
        return Net::zero();
    };
    if usable.is_empty() {
        return fallback;
    }
    let scale = 1.0 / (schedule.batch * OUTPUTS * p * p) as f32;
    let mut running = 0f64;
    for step in 0..schedule.steps {
        let picks: Vec<(usize, usize, usize)> = (0..schedule.batch)
            .map(|_| {
                let k = rng.usize(..usable.len());
                let e = usable[k];
                let x = rng.usize(..=e.target.width - p);
                let y = rng.usize(..=e.target.height - p);
                (k, x, y)
            })
            .collect();
        let Some(net) = Net::from_values(&params) else {
            break;
        };
        let parts: Vec<(f64, Vec<f32>)> = picks
            .par_iter()
            .map(|&(k, x, y)| {
                let (input, target) = usable[k].crop(x, y, p);
                let mut grad = vec![0f32; PARAMETERS];
                let loss = crop_gradient(&net, &input, &target, scale, &mut grad);
                (loss, grad)
            })
            .collect();
        let mut grad = vec![0f32; PARAMETERS];
        let mut loss = 0f64;
        for (l, g) in &parts {
            loss += l;
            for (a, b) in grad.iter_mut().zip(g) {
                *a += b;
            }
        }
        running += loss * f64::from(scale);
        let rate = if step * 10 >= schedule.steps * 7 {
            schedule.rate / 5.0
        } else {
            schedule.rate
        };
        adam.step(&mut params, &grad, rate);
        if (step + 1) % 500 == 0 {
            log(step + 1, running / 500.0);
            running = 0.0;
        }
    }
    Net::from_values(&params).unwrap_or(fallback)
}

/// Trains both banks' networks on `photos` with `model`'s first stage and writes them.
pub fn run(model: &enhance::Model, photos: &[RgbImage], schedule: Schedule) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut nets = Vec::with_capacity(BANKS);
    for bank in 0..BANKS {
        let examples: Vec<Example> = photos
            .par_iter()
            .flat_map_iter(|photo| examples(model, photo, bank))
            .collect();
        println!(
            "  second stage, bank {bank}: {} examples, {:.0} s",
            examples.len(),
            started.elapsed().as_secs_f64()
        );
        let net = train(&examples, schedule, |step, mse| {
            println!(
                "    step {step}: mse {mse:.3e} ({:.1} dB), {:.0} s",
                -10.0 * mse.log10(),
                started.elapsed().as_secs_f64()
            );
        });
        nets.push(net);
    }
    let bytes = refine::nets_to_bytes(&nets);
    std::fs::write(REFINE_PATH, &bytes)?;
    println!(
        "wrote {REFINE_PATH}: {} bytes, {BANKS} networks of {PARAMETERS} parameters, {} steps of {} crops of {}², {:.0} s",
        bytes.len(),
        schedule.steps,
        schedule.batch,
        schedule.patch,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of the summed squared error against the analytic gradient;
    /// returns the share of the probed parameters that agree to within `tolerance`.
    fn agreement(params: &mut [f32], h: f32, tolerance: f64) -> f64 {
        let mut rng = fastrand::Rng::with_seed(11);
        let side = 6;
        let mut input = Maps::new(refine::INPUTS, side + 2 * REACH, side + 2 * REACH);
        input.data.iter_mut().for_each(|v| *v = rng.f32() - 0.5);
        let mut target = Maps::new(OUTPUTS, side, side);
        target
            .data
            .iter_mut()
            .for_each(|v| *v = rng.f32() * 0.2 - 0.1);
        let loss = |params: &[f32]| -> f64 {
            let out = Net::from_values(params).unwrap().forward(&input);
            out.data
                .iter()
                .zip(&target.data)
                .map(|(o, t)| f64::from(o - t).powi(2))
                .sum()
        };
        let mut grad = vec![0f32; PARAMETERS];
        crop_gradient(
            &Net::from_values(params).unwrap(),
            &input,
            &target,
            1.0,
            &mut grad,
        );
        // A spread of parameters in every layer, weights and biases.
        let probes: Vec<usize> = (0..PARAMETERS)
            .step_by(17)
            .chain([PARAMETERS - 1])
            .collect();
        let agree = probes
            .iter()
            .filter(|&&k| {
                let keep = params[k];
                params[k] = keep + h;
                let up = loss(params);
                params[k] = keep - h;
                let down = loss(params);
                params[k] = keep;
                let numeric = (up - down) / (2.0 * f64::from(h));
                (numeric - f64::from(grad[k])).abs() <= tolerance * numeric.abs().max(1e-2)
            })
            .count();
        agree as f64 / probes.len() as f64
    }

    #[test]
    fn gradients_are_exact_where_every_unit_is_active() {
        // Non-negative weights, inputs within ±0.5 and hidden biases of 3 keep every ReLU
        // open, so the error is quadratic in each parameter and central differences are
        // exact whatever the step.
        let mut rng = fastrand::Rng::with_seed(2);
        let mut params: Vec<f32> = (0..PARAMETERS).map(|_| rng.f32() * 0.1).collect();
        let mut at = 0;
        for (l, (inputs, outputs)) in refine::shape().into_iter().enumerate() {
            at += outputs * inputs * 9;
            if l + 1 < refine::DEPTH {
                params[at..at + outputs].fill(3.0);
            }
            at += outputs;
        }
        assert_eq!(agreement(&mut params, 0.05, 1e-2), 1.0);
    }

    #[test]
    fn gradients_match_finite_differences_through_the_relus() {
        // Random weights put some units near their kink, where a finite difference
        // straddles it; nearly all parameters must still agree.
        let mut rng = fastrand::Rng::with_seed(4);
        let mut params: Vec<f32> = (0..PARAMETERS).map(|_| rng.f32() * 0.6 - 0.3).collect();
        assert!(agreement(&mut params, 1e-3, 5e-2) >= 0.9);
    }

    #[test]
    fn training_is_bit_identical_at_any_thread_count() {
        let mut rng = fastrand::Rng::with_seed(3);
        let examples: Vec<Example> = (0..2)
            .map(|_| {
                let (w, h) = (20, 16);
                let mut input = Maps::new(refine::INPUTS, h + 2 * REACH, w + 2 * REACH);
                input.data.iter_mut().for_each(|v| *v = rng.f32() - 0.5);
                let mut target = Maps::new(OUTPUTS, h, w);
                target.data.iter_mut().for_each(|v| *v = rng.f32() * 0.1);
                Example { input, target }
            })
            .collect();
        let schedule = Schedule {
            steps: 20,
            batch: 4,
            patch: 8,
            rate: 1e-2,
            seed: 5,
        };
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| train(&examples, schedule, |_, _| {}))
        };
        let one = run(1);
        assert_eq!(one, run(3));
        assert_ne!(one, Net::zero(), "training moved the weights");
    }
}
