//! Haze families: several depth layouts, densities and air lights, with and without JPEG;
//! the haze-free controls a dehazer must leave alone; and a dark-channel-prior baseline
//! (He et al., as OpenCV scripts write it) computed here in Rust.

use image::RgbImage;

use super::field::{Field, box_mean, fbm, min_filter, smoothstep};

/// How the haze's depth is laid out over the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Clear foreground, haze rising with distance to a veiled horizon and sky.
    Rising,
    /// The same veil everywhere.
    Uniform,
    /// Depth growing from one side of the frame to the other.
    Side,
    /// Depth following the picture: bright, smooth regions far, edges kept.
    Content,
    /// Patches of mist with clear gaps between them.
    Patchy,
}

impl Layout {
    pub const ALL: [Layout; 5] = [
        Layout::Rising,
        Layout::Uniform,
        Layout::Side,
        Layout::Content,
        Layout::Patchy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layout::Rising => "rising with distance above a clear foreground",
            Layout::Uniform => "uniform fog",
            Layout::Side => "from one side",
            Layout::Content => "following the content",
            Layout::Patchy => "patchy mist",
        }
    }

    /// Families never looked at while the dehazer was developed (reported only).
    pub fn held_out(self) -> bool {
        matches!(self, Layout::Content | Layout::Patchy)
    }
}

/// Haze densities: the transmission at the farthest point of the layout.
pub const DENSITIES: [(&str, f32); 3] = [("light", 0.65), ("medium", 0.4), ("dense", 0.2)];

/// Air-light colours (scaled by a level drawn from 0.7–1.0).
const AIR_COLOURS: [(&str, [f32; 3]); 4] = [
    ("white", [1.0, 1.0, 1.0]),
    ("grey", [0.9, 0.9, 0.9]),
    ("bluish", [0.84, 0.92, 1.0]),
    ("yellowish", [1.0, 0.94, 0.78]),
];

/// Normalised depth (0 near, 1 far) of `layout` over `clean`.
pub fn depth(clean: &RgbImage, layout: Layout, rng: &mut fastrand::Rng) -> Field {
    let (w, h) = (clean.width() as usize, clean.height() as usize);
    let (fw, fh) = (w as f32, h as f32);
    match layout {
        Layout::Rising => {
            let horizon = 0.3 + 0.25 * rng.f32();
            let foreground = horizon + 0.25 + 0.15 * rng.f32();
            let phase = rng.f32() * 6.0;
            Field::from_fn(w, h, |x, y| {
                let wave = 0.04 * (x as f32 / fw * 5.0 + phase).sin();
                1.0 - smoothstep(horizon + wave, foreground + wave, y as f32 / fh)
            })
        }
        Layout::Uniform => {
            let slow = fbm(w, h, 2.0, 2, rng.u64(..));
            Field::from_fn(w, h, |x, y| 0.95 + 0.05 * slow.at(x, y))
        }
        Layout::Side => {
            let angle = rng.f32() * std::f32::consts::TAU;
            let (dx, dy) = (angle.cos(), angle.sin());
            let near = 0.1 + 0.2 * rng.f32();
            Field::from_fn(w, h, |x, y| {
                let s = ((x as f32 / fw - 0.5) * dx + (y as f32 / fh - 0.5) * dy) / 1.2 + 0.5;
                smoothstep(near, 1.0, s)
            })
        }
        Layout::Content => {
            // Bright, smooth regions are far (sky, distant hills); depth also grows
            // upwards. Box smoothing spreads it over regions, then a guided-filter-like
            // pull towards the luma keeps the picture's edges in the depth.
            let luma = Field::luma(clean);
            let detail = box_mean(&luma.map2(&box_mean(&luma, 2), |a, b| (a - b).abs()), 6);
            let coarse = Field::from_fn(w, h, |x, y| {
                0.45 * luma.at(x, y)
                    + 0.35 * (1.0 - y as f32 / fh)
                    + 0.2 * (1.0 - (detail.at(x, y) * 12.0).min(1.0))
            });
            let coarse = box_mean(&coarse, (w.min(h) / 24).max(2));
            let guided = super::field::guided(&luma, &coarse, (w.min(h) / 40).max(2), 1e-3);
            guided.normalised(0.02, 0.98)
        }
        Layout::Patchy => {
            let noise = fbm(w, h, 3.0 + 2.0 * rng.f32(), 3, rng.u64(..));
            let level = 0.45 + 0.1 * rng.f32();
            Field::from_fn(w, h, |x, y| {
                smoothstep(level - 0.12, level + 0.2, noise.at(x, y))
            })
        }
    }
}

/// One hazy input: the degraded image and what was drawn for it.
pub struct Hazy {
    pub image: RgbImage,
    pub label: String,
}

/// `clean` under haze of `layout` at the density whose far transmission is `t_far`, with a
/// seeded air light.
pub fn hazy(clean: &RgbImage, layout: Layout, t_far: f32, rng: &mut fastrand::Rng) -> Hazy {
    let d = depth(clean, layout, rng);
    let (air_name, colour) = AIR_COLOURS[rng.usize(..AIR_COLOURS.len())];
    let level = 0.7 + 0.3 * rng.f32();
    let air = colour.map(|c| c * level);
    let t_far = (t_far + 0.1 * (rng.f32() - 0.5)).clamp(0.05, 0.95);
    let beta = -t_far.ln();
    let image = RgbImage::from_fn(clean.width(), clean.height(), |x, y| {
        let t = (-beta * d.at(x as usize, y as usize)).exp();
        let p = clean.get_pixel(x, y).0;
        image::Rgb(std::array::from_fn(|c| {
            to_u8((f32::from(p[c]) / 255.0 * t + air[c] * (1.0 - t)) * 255.0)
        }))
    });
    Hazy {
        image,
        label: format!("{air_name} air light ×{level:.2}, far transmission {t_far:.2}"),
    }
}

fn to_u8(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

/// Haze-free controls: photos that are pale, bright or grey by nature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// The photo itself.
    Photo,
    /// A close-up of a pale surface: a crop of the photo as shading and texture on a pale
    /// colour (a surface's shading multiplies its colour; it adds no veil).
    PaleCloseUp,
    /// A snowfield: near-white, bluish, low contrast.
    Snow,
    /// The photo under an overcast sky: its upper part replaced by a bright grey sky.
    OvercastSky,
    /// A wall of fog colour filling the frame.
    FogWall,
}

impl Control {
    pub const ALL: [Control; 5] = [
        Control::Photo,
        Control::PaleCloseUp,
        Control::Snow,
        Control::OvercastSky,
        Control::FogWall,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Control::Photo => "haze-free photo (vs itself)",
            Control::PaleCloseUp => "pale close-up (vs itself)",
            Control::Snow => "snow (vs itself)",
            Control::OvercastSky => "overcast sky (vs itself)",
            Control::FogWall => "fog-coloured wall (vs itself)",
        }
    }

    pub fn held_out(self) -> bool {
        matches!(self, Control::Snow | Control::FogWall)
    }
}

/// A crop of a third of the photo's area, scaled back to the photo's size: a close-up.
fn close_up(clean: &RgbImage, rng: &mut fastrand::Rng) -> RgbImage {
    let (w, h) = (clean.width(), clean.height());
    let (cw, ch) = ((w * 10 / 17).max(8), (h * 10 / 17).max(8));
    let (x0, y0) = (rng.u32(0..=w - cw), rng.u32(0..=h - ch));
    let crop = image::imageops::crop_imm(clean, x0, y0, cw, ch).to_image();
    image::imageops::resize(&crop, w, h, image::imageops::FilterType::CatmullRom)
}

/// The haze-free control `kind` made from `clean`.
pub fn control(clean: &RgbImage, kind: Control, rng: &mut fastrand::Rng) -> RgbImage {
    // A surface of colour `albedo` shaded by the crop's luma (shading from `low` to 1)
    // with a share `chroma` of the crop's own colour variation.
    let surface = |img: &RgbImage, albedo: [f32; 3], low: f32, chroma: f32| {
        RgbImage::from_fn(img.width(), img.height(), |x, y| {
            let p = img.get_pixel(x, y).0.map(|v| f32::from(v) / 255.0);
            let l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            let shade = low + (1.0 - low) * l;
            image::Rgb(std::array::from_fn(|c| {
                to_u8(255.0 * shade * (albedo[c] + chroma * (p[c] - l)))
            }))
        })
    };
    match kind {
        Control::Photo => clean.clone(),
        Control::PaleCloseUp => {
            let albedos = [[0.96, 0.88, 0.74], [0.93, 0.9, 0.86], [0.98, 0.92, 0.9]];
            let albedo = albedos[rng.usize(..albedos.len())];
            surface(&close_up(clean, rng), albedo, 0.55 + 0.15 * rng.f32(), 0.3)
        }
        Control::Snow => surface(&close_up(clean, rng), [0.94, 0.97, 1.0], 0.7, 0.1),
        Control::FogWall => {
            let grey = 0.7 + 0.15 * rng.f32();
            surface(
                &close_up(clean, rng),
                [grey, grey * 1.01, grey * 1.04],
                0.75,
                0.15,
            )
        }
        Control::OvercastSky => {
            let (w, h) = (clean.width() as usize, clean.height() as usize);
            let line = 0.3 + 0.2 * rng.f32();
            let clouds = fbm(w, h, 4.0, 3, rng.u64(..));
            let top = 0.78 + 0.1 * rng.f32();
            let mut out = clean.clone();
            for (x, y, px) in out.enumerate_pixels_mut() {
                let fy = y as f32 / h as f32;
                // A soft skyline so the sky meets the scene as real ones do.
                let sky = 1.0 - smoothstep(line - 0.02, line + 0.02, fy);
                if sky <= 0.0 {
                    continue;
                }
                let v = top
                    + 0.06 * fy / line.max(1e-3)
                    + 0.03 * (clouds.at(x as usize, y as usize) - 0.5);
                let s = [v * 0.98, v * 0.99, v];
                for (out, sky_value) in px.0.iter_mut().zip(s) {
                    let mixed = sky * sky_value * 255.0 + (1.0 - sky) * f32::from(*out);
                    *out = to_u8(mixed);
                }
            }
            out
        }
    }
}

/// He et al.'s dark channel prior as the usual OpenCV script writes it (the harness's
/// `xtask/py/baselines.py`): 15 × 15 dark channel, air light the per-channel maximum of
/// the 0.1 % haziest pixels, ω 0.95, guided filter r 60 ε 10⁻³ on grey, t ≥ 0.1.
pub fn dark_channel_prior(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let planes: [Field; 3] = std::array::from_fn(|c| {
        Field::from_fn(w, h, |x, y| {
            f32::from(img.get_pixel(x as u32, y as u32).0[c]) / 255.0
        })
    });
    let min3 = |p: &[Field; 3]| p[0].map2(&p[1], f32::min).map2(&p[2], f32::min);
    let dark = min_filter(&min3(&planes), 7);
    let n = (dark.data.len() / 1000).max(1);
    let mut order: Vec<usize> = (0..dark.data.len()).collect();
    order.sort_by(|&a, &b| dark.data[b].total_cmp(&dark.data[a]).then(a.cmp(&b)));
    let mut air = [0.0f32; 3];
    for &i in &order[..n] {
        for (c, a) in air.iter_mut().enumerate() {
            *a = a.max(planes[c].data[i]);
        }
    }
    let air = air.map(|a| a.max(1e-3));
    let normalised: [Field; 3] = std::array::from_fn(|c| planes[c].map(|v| v / air[c]));
    let raw_t = min_filter(&min3(&normalised), 7).map(|d| 1.0 - 0.95 * d);
    let grey = Field::luma(img);
    let t = super::field::guided(&grey, &raw_t, 60, 1e-3);
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let tt = t.at(x as usize, y as usize).max(0.1);
        image::Rgb(std::array::from_fn(|c| {
            let v = planes[c].at(x as usize, y as usize);
            to_u8(((v - air[c]) / tt + air[c]).clamp(0.0, 1.0) * 255.0)
        }))
    })
}
