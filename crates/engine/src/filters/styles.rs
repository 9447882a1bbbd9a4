//! The nine painterly styles (`style_trans`'s, which `customize_stylization`'s presets and
//! `selfie_anime` build on): non-photorealistic looks built from the blocks in [`crate::filters::npr`]
//! (edge-preserving smoothing, colour quantisation, edge and hatching layers, palette
//! mapping, flow-guided distortion). Each style is one function of the photo; radii
//! scale with the image, so a style looks alike at any resolution.
// Colours are written 0xRRGGBB, as in CSS; separators would hide the channels.
#![allow(clippy::unreadable_literal)]

use baidu_imageprocess_protocol::Style;

use crate::filters::npr::{self, Rgb, gradient, hex, mix, smoothstep};
use crate::filters::planes::Plane;

/// The planes rendered in `style`.
pub(crate) fn render(planes: &Rgb, style: Style) -> Rgb {
    match style {
        Style::Pencil => pencil(planes),
        Style::ColorPencil => color_pencil(planes),
        Style::Warm => warm(planes),
        Style::Wave => wave(planes),
        Style::Lavender => lavender(planes),
        Style::Mononoke => mononoke(planes),
        Style::Scream => scream(planes),
        Style::Gothic => gothic(planes),
        Style::Cartoon => cartoon(planes),
    }
}

/// Flat colour regions with dark outlines: domain-transform smoothing, luma quantised to
/// a few flat bands, saturation raised, difference-of-Gaussians outlines thickened.
pub(crate) fn cartoon(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let flat = npr::at_work_size(img, npr::WORK_PIXELS, |s| {
        let su = npr::unit(s);
        npr::edge_preserving(&npr::edge_preserving(s, 30.0 * su, 0.25), 15.0 * su, 0.2)
    });
    let lines = outlines(img, u, 1.0);
    let borders = boundaries(&flat, u);
    npr::map(&flat, |x, y, c| {
        let l = npr::luma_of(c);
        let q = npr::quantise(l, 6.0, 10.0);
        let c = npr::saturate(npr::with_luma(c, 0.05 + 0.95 * q), 1.35);
        npr::scale(npr::clamp01(c), lines.at(x, y).min(borders.at(x, y)))
    })
}

/// Ink along the boundaries between flat regions (1 paper, 0 ink): where the smoothed
/// image's luma changes steeply.
pub(crate) fn boundaries(flat: &Rgb, u: f32) -> Plane {
    let g = npr::gradient_magnitude(&npr::blur(&npr::luma(flat), 0.7 * u));
    // A central difference spans 2 px; scale so the threshold is per reference pixel.
    let k = u.max(0.5);
    g.map(|v| 1.0 - smoothstep(0.07, 0.16, v * k))
}

/// Dark outlines of `img` (1 paper, 0 ink), `weight` 1 for the cartoon's line width.
pub(crate) fn outlines(img: &Rgb, u: f32, weight: f32) -> Plane {
    let soft = npr::smooth(img, 8.0, 0.25);
    let lines = npr::dog_lines(&npr::luma(&soft), (1.0 * u).max(0.6), 0.003, 120.0);
    npr::thicken(&lines, 0.8 * u * weight)
}

/// The graphite layer of a pencil drawing in 0..1 (1 bare paper): dodge-blend contour
/// lines times cross-hatching whose density follows the tone.
pub(crate) fn graphite(img: &Rgb, u: f32) -> Plane {
    let (w, h) = npr::dims(img);
    let l = npr::luma(img);
    // Colour dodge of the luma by its blurred inverse, l / blur(l): flat areas go white,
    // edges stay as fine dark lines.
    let soft = npr::blur(&l, 6.0 * u);
    let sketch = l.zip(&soft, |a, b| (a / b.max(0.02)).min(1.0).powf(2.5));
    let tone = npr::blur(&l, 2.0 * u);
    let stroke = (12.0 * u).max(3.0);
    let hatch_a = npr::hatching(w, h, 0.9, stroke, 1);
    let hatch_b = npr::hatching(w, h, -0.7, stroke, 2);
    Plane::from_fn(w, h, |x, y| {
        let i = y * w + x;
        let dark = 1.0 - tone.data[i];
        // The first layer covers mid tones, the cross layer only the shadows.
        let a = hatch_a.data[i] * smoothstep(0.25, 0.9, dark) * 0.55;
        let b = hatch_b.data[i] * smoothstep(0.55, 1.0, dark) * 0.5;
        sketch.data[i] * (1.0 - a) * (1.0 - b)
    })
}

/// Grey pencil sketch on paper.
fn pencil(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let g = graphite(img, u);
    let (w, _) = npr::dims(img);
    let lead = hex(0x2b2b30);
    npr::render(g.width, g.height, |x, y| {
        let paper = npr::paper(x, y, u, hex(0xf4f1ea));
        mix(lead, paper, g.data[y * w + x])
    })
}

/// The pencil sketch tinted with the photo's colours, as if shaded with colour pencils.
fn color_pencil(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let g = graphite(img, u);
    let colours = npr::smooth(img, 20.0, 0.4);
    let (w, h) = npr::dims(img);
    let strokes = npr::hatching(w, h, 0.9, (10.0 * u).max(3.0), 5);
    npr::map(&colours, |x, y, c| {
        let i = y * w + x;
        let paper = npr::paper(x, y, u, hex(0xf7f4ee));
        let pigment = npr::saturate(c, 1.4);
        // Colour is laid in strokes: dense where the photo is dark or saturated.
        let cover = (0.45 + 0.55 * strokes.data[i]).min(1.0);
        let tinted = mix(paper, npr::clamp01(pigment), cover * 0.85);
        let ink = g.data[i];
        npr::scale(tinted, 0.25 + 0.75 * ink)
    })
}

/// A warm grade: orange white balance, lifted warm shadows, soft golden glow.
fn warm(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let l = npr::luma(img);
    let glow = npr::blur(&l, 14.0 * u);
    let (w, h) = npr::dims(img);
    npr::map(img, |x, y, c| {
        let c = [c[0] * 1.1 + 0.03, c[1] * 1.0 + 0.01, c[2] * 0.78];
        let c = npr::saturate(c, 1.15);
        // Gentle S-curve on luma.
        let y0 = npr::luma_of(c).clamp(0.0, 1.0);
        let curved = y0 + 0.25 * (y0 - 0.5) * (1.0 - (2.0 * y0 - 1.0).abs());
        let c = npr::with_luma(c, curved);
        let bloom = smoothstep(0.55, 1.0, glow.at(x, y)) * 0.35;
        let c = npr::screen(npr::clamp01(c), npr::scale(hex(0xffb45a), bloom));
        npr::scale(c, npr::vignette(x, y, w, h, 0.25))
    })
}

/// Hokusai's woodcut: the photo reduced to the Great Wave's palette (Prussian blue,
/// indigo, pale blue, tan, cream paper) in flat bands, strong indigo lines and paper grain.
fn wave(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let flat = npr::smooth(img, 30.0, 0.3);
    let lines = outlines(img, u, 1.6);
    const BLUES: [(f32, [f32; 3]); 5] = [
        (0.0, hex(0x0f1e3d)),
        (0.3, hex(0x1d3f6e)),
        (0.55, hex(0x4f7fa6)),
        (0.78, hex(0xa9c2cf)),
        (1.0, hex(0xf1e7cf)),
    ];
    const EARTH: [(f32, [f32; 3]); 4] = [
        (0.0, hex(0x2a2018)),
        (0.35, hex(0x6b5236)),
        (0.7, hex(0xc9a97c)),
        (1.0, hex(0xf1e7cf)),
    ];
    npr::map(&flat, |x, y, c| {
        let l = npr::luma_of(c);
        let q = npr::quantise(l, 5.0, 12.0);
        // Warm pixels take the earth tones of the boats and Fuji; the rest the blues.
        let warmth = 0.75 * smoothstep(0.12, 0.35, c[0] - c[2]);
        let col = mix(gradient(&BLUES, q), gradient(&EARTH, q), warmth);
        let paper = npr::paper(x, y, u, [1.0, 1.0, 1.0]);
        let ink = mix(hex(0x0c1530), col, lines.at(x, y));
        npr::mul(ink, paper)
    })
}

/// A soft lavender grade: lifted violet blacks, pink-white highlights, low saturation,
/// a dreamy glow.
fn lavender(img: &Rgb) -> Rgb {
    let soft = npr::at_work_size(img, npr::WORK_PIXELS, |s| {
        npr::blur_rgb(s, 5.0 * npr::unit(s))
    });
    npr::map(img, |x, y, c| {
        let i = y * img[0].width + x;
        let dreamy = mix(c, npr::px(&soft, i), 0.35);
        let l = npr::luma_of(dreamy);
        let grey = npr::saturate(dreamy, 0.45);
        let tint = gradient(
            &[
                (0.0, hex(0x3a2c52)),
                (0.5, hex(0xa48cc8)),
                (1.0, hex(0xfbeefa)),
            ],
            l,
        );
        let c = npr::soft_light(grey, tint);
        let c = mix(c, tint, 0.35);
        // Lower contrast: pull towards the middle.
        npr::clamp01(npr::scale(npr::mix(c, [0.72, 0.66, 0.8], 0.18), 1.02))
    })
}

/// Lush painted animation backgrounds: Kuwahara paint patches on an edge-preserving
/// base, brushed along their contours, saturated greens and blues, bright air, teal
/// shadows and cream light, soft dark green contours.
fn mononoke(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let paint = npr::at_work_size(img, npr::WORK_PIXELS, |s| {
        let su = npr::unit(s);
        let patches = npr::kuwahara(&npr::edge_preserving(s, 20.0 * su, 0.35), 6.0 * su);
        npr::brush_strokes(&patches, 7.0 * su, 0.25, 17)
    });
    let lines = outlines(img, u, 0.8);
    npr::map(&paint, |x, y, c| {
        let c = npr::saturate(c, 1.6);
        // Greens lusher, skies cleaner.
        let green = smoothstep(0.0, 0.1, c[1] - c[0].max(c[2]) + 0.04);
        let c = mix(c, [c[0] * 0.8, c[1] * 1.08, c[2] * 0.85], green);
        let l = npr::luma_of(c).clamp(0.0, 1.0);
        let lifted = l.powf(0.85);
        let q = npr::quantise(lifted, 10.0, 3.0);
        let c = npr::clamp01(npr::with_luma(c, q));
        // Painted light: teal shadows, warm cream highlights.
        let light = gradient(
            &[
                (0.0, hex(0x1f5a5e)),
                (0.5, hex(0x8fb08a)),
                (1.0, hex(0xfff1c9)),
            ],
            q,
        );
        let c = mix(c, npr::soft_light(c, light), 0.6);
        let contour = 0.5 + 0.5 * lines.at(x, y);
        mix(hex(0x24331c), c, contour)
    })
}

/// Munch's Scream: the photo swirled by a smooth flow field, smeared along swirling
/// strokes and mapped to blood-orange skies and blue-black depths.
fn scream(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let (w, h) = npr::dims(img);
    // Work at a reduced size: the look is coarse by nature and the strokes are long.
    let (small, factor) = npr::shrink(img, 900);
    let su = npr::unit(&small);
    let (sw, sh) = npr::dims(&small);
    let period = 90.0 * su;
    let swirl = Plane::from_fn(sw, sh, |x, y| {
        let n = npr::fbm(x as f32 / period, y as f32 / period, 21);
        n * std::f32::consts::TAU * 2.0 + y as f32 / (60.0 * su)
    });
    let amp = 10.0 * su;
    let warped = npr::warp(&small, |x, y| {
        let a = swirl.at(x, y);
        (amp * a.cos(), amp * a.sin())
    });
    let base = npr::edge_preserving(&warped, 20.0 * su, 0.5);
    let noisy = npr::map(&base, |x, y, c| {
        let n = npr::hash(x as i64, y as i64, 9) - 0.5;
        [c[0] + 0.12 * n, c[1] + 0.12 * n, c[2] + 0.12 * n]
    });
    let strokes = npr::flow_smooth(&noisy, &swirl, 9.0 * su);
    let painted = npr::resize(&strokes, w, h);
    let lines = outlines(img, u, 1.2);
    const PALETTE: [(f32, [f32; 3]); 6] = [
        (0.0, hex(0x0e1526)),
        (0.25, hex(0x233f66)),
        (0.45, hex(0x3f6f7a)),
        (0.62, hex(0xc4532b)),
        (0.8, hex(0xe8922f)),
        (1.0, hex(0xf6d27a)),
    ];
    let _ = factor;
    npr::map(&painted, |x, y, c| {
        let l = npr::luma_of(c);
        // The upper frame leans to the burning sky.
        let sky = 1.0 - y as f32 / h as f32;
        let t = (l * 1.1 + 0.12 * sky - 0.04).clamp(0.0, 1.0);
        let col = mix(gradient(&PALETTE, t), npr::saturate(c, 1.5), 0.2);
        mix(
            hex(0x10131c),
            npr::clamp01(col),
            0.35 + 0.65 * lines.at(x, y),
        )
    })
}

/// Dark, cold, high contrast: crushed blacks, strong local contrast, blue-steel tint,
/// heavy vignette and film grain.
fn gothic(img: &Rgb) -> Rgb {
    let u = npr::unit(img);
    let l = npr::luma(img);
    let local = npr::blur(&l, 25.0 * u);
    let (w, h) = npr::dims(img);
    npr::map(img, |x, y, c| {
        let i = y * w + x;
        let y0 = l.data[i];
        let clarity = (y0 + 0.8 * (y0 - local.data[i])).clamp(0.0, 1.0);
        let toned = smoothstep(0.12, 0.92, clarity).powf(1.35);
        let cold = gradient(
            &[
                (0.0, hex(0x020308)),
                (0.4, hex(0x1c2633)),
                (0.75, hex(0x6d7f8f)),
                (1.0, hex(0xe4ecf2)),
            ],
            toned,
        );
        let c = mix(cold, npr::with_luma(npr::saturate(c, 0.3), toned), 0.3);
        let grain = (npr::hash(x as i64, y as i64, 13) - 0.5) * 0.06;
        let v = npr::vignette(x, y, w, h, 0.75);
        npr::clamp01([(c[0] + grain) * v, (c[1] + grain) * v, (c[2] + grain) * v])
    })
}
