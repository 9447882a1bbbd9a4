//! Custom stylisation: thirty presets built from the building blocks of [`crate::filters::npr`]
//! and the nine styles, or the palette and texture statistics of a style image.
//!
//! Style-image transfer works in Oklab: the input's lightness is histogram-matched to
//! the style's, its chroma (a, b) matched in mean and spread (Reinhard's transfer in a
//! perceptual space), its detail layer (lightness minus a blur) scaled to the style's
//! detail energy (a flat, painted style image flattens the photo through
//! edge-preserving smoothing), and finally every colour is pulled part way to the
//! nearest of the style's eight dominant colours (k-means), which carries its palette.
// Colours are written 0xRRGGBB, as in CSS; separators would hide the channels.
#![allow(clippy::unreadable_literal)]

use baidu_imageprocess_protocol::Style;
use image::RgbImage;

use crate::filters::npr::{self, Rgb, gradient, hex, mix, smoothstep};
use crate::filters::planes::Plane;
use crate::filters::styles;

/// The thirty presets of custom stylisation as (name, what it looks like); the index is
/// the API's `style_id`.
pub const PRESETS: [(&str, &str); 30] = [
    ("comic", "cartoon flats, heavy outlines, punchy colour"),
    (
        "watercolour",
        "soft washes on grained paper, darkened pigment edges",
    ),
    (
        "oil paint",
        "Kuwahara brush patches, rich colour, canvas weave",
    ),
    ("charcoal", "dark smudged graphite on grey paper"),
    (
        "ink wash",
        "sumi-e: grey ink washes and brush lines on rice paper",
    ),
    ("pop art", "four bold flat colours with halftone dots"),
    ("sepia", "brown-toned photograph, vignette and grain"),
    ("noir", "black-and-white, crushed blacks, hard vignette"),
    ("blueprint", "white lines on Prussian blue"),
    ("neon", "edges glowing in their own colour on black"),
    ("pastel", "smoothed, light, chalky pastel colours"),
    (
        "stained glass",
        "saturated flat cells with thick lead lines",
    ),
    ("mosaic", "square tiles of mean colour with grout"),
    ("risograph", "pink and blue duotone, misregistered, grainy"),
    ("cyanotype", "Prussian-blue sun print"),
    ("autumn", "red-orange foliage grade"),
    (
        "teal and orange",
        "cinematic grade: teal shadows, orange skin tones",
    ),
    ("faded film", "lifted blacks, warm cast, grain"),
    (
        "infrared",
        "false-colour infrared: foliage glows pink-white",
    ),
    ("thermal", "heat-camera palette on luminance"),
    ("night vision", "green phosphor, scan lines, noise"),
    ("crayon", "waxy colour strokes on paper"),
    ("engraving", "banknote-style line hatching in dark ink"),
    ("posterize", "four levels per channel"),
    ("handheld console", "four greens, chunky pixels"),
    ("sunset woodcut", "the woodcut of `wave` in dusk colours"),
    (
        "violet swirl",
        "the swirling strokes of `scream` in violet and gold",
    ),
    (
        "emerald painting",
        "the painterly `mononoke` look pushed to deep greens",
    ),
    ("frost", "icy pale blues, soft glow"),
    ("gold leaf", "black lacquer and gold, outlined"),
];

/// Preset `id` (0–29, checked by the caller).
pub(crate) fn preset(img: &RgbImage, id: u8) -> RgbImage {
    if img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    npr::render_capped(img, |img| {
        npr::image_of(&render_preset(&npr::planes_of(img), id))
    })
}

/// Maps luma through `stops` for every pixel of `img`.
fn gradient_map(img: &Rgb, stops: &[(f32, [f32; 3])]) -> Rgb {
    npr::map(img, |_, _, c| gradient(stops, npr::luma_of(c)))
}

#[allow(clippy::too_many_lines)] // one short arm per preset reads best as a table
fn render_preset(p: &Rgb, id: u8) -> Rgb {
    let u = npr::unit(p);
    let (w, h) = npr::dims(p);
    match id {
        0 => {
            let flat = npr::smooth(p, 50.0, 0.3);
            let lines = styles::outlines(p, u, 2.0);
            npr::map(&flat, |x, y, c| {
                let q = npr::quantise(npr::luma_of(c), 4.0, 16.0);
                let c = npr::clamp01(npr::saturate(npr::with_luma(c, q), 1.7));
                npr::scale(c, lines.at(x, y))
            })
        }
        1 => {
            let wash = npr::at_work_size(p, npr::WORK_PIXELS, |s| {
                let su = npr::unit(s);
                npr::edge_preserving(&npr::blur_rgb(s, 1.5 * su), 30.0 * su, 0.6)
            });
            let l = npr::luma(&wash);
            let edges = npr::gradient_magnitude(&npr::blur(&l, 1.5 * u));
            let bleed = npr::blur(&edges, 2.0 * u);
            npr::map(&wash, |x, y, c| {
                let paper = npr::paper(x, y, u, hex(0xfbf8f0));
                let pigment = npr::saturate(mix(c, [1.0; 3], 0.25), 1.1);
                let darker = (bleed.at(x, y) * 6.0 / u.max(0.3)).min(0.35);
                let granul = 0.9 + 0.1 * npr::fbm(x as f32 / (4.0 * u), y as f32 / (4.0 * u), 3);
                npr::mul(npr::scale(pigment, (1.0 - darker) * granul), paper)
            })
        }
        2 => {
            let paint = npr::at_work_size(p, npr::WORK_PIXELS, |s| {
                let su = npr::unit(s);
                npr::kuwahara(&npr::edge_preserving(s, 15.0 * su, 0.4), 10.0 * su)
            });
            npr::map(&paint, |x, y, c| {
                let weave = 0.94
                    + 0.03
                        * ((x as f32 / (1.6 * u.max(0.5))).sin()
                            * (y as f32 / (1.6 * u.max(0.5))).sin())
                    + 0.03 * npr::hash(x as i64, y as i64, 4);
                npr::scale(npr::clamp01(npr::saturate(c, 1.3)), weave)
            })
        }
        3 => {
            let g = styles::graphite(p, u * 1.6);
            let l = npr::blur(&npr::luma(p), 3.0 * u);
            npr::render(w, h, |x, y| {
                let paper = npr::paper(x, y, u, hex(0xd9d6d0));
                let smudge = 0.35 + 0.65 * l.at(x, y);
                mix(hex(0x161616), paper, g.at(x, y) * smudge)
            })
        }
        4 => {
            let soft = npr::smooth(p, 40.0, 0.4);
            let lines = styles::outlines(p, u, 1.3);
            npr::map(&soft, |x, y, c| {
                let tone = npr::quantise(npr::luma_of(c), 4.0, 3.0);
                let ink = gradient(
                    &[
                        (0.0, hex(0x1a1a1a)),
                        (0.6, hex(0x8b8a86)),
                        (1.0, hex(0xf3efe4)),
                    ],
                    tone,
                );
                let paper = npr::paper(x, y, u, [1.0; 3]);
                npr::mul(npr::scale(ink, 0.2 + 0.8 * lines.at(x, y)), paper)
            })
        }
        5 => {
            let flat = npr::smooth(p, 40.0, 0.3);
            let lines = styles::outlines(p, u, 1.6);
            let cell = (7.0 * u).max(3.0);
            npr::map(&flat, |x, y, c| {
                let l = npr::luma_of(c);
                let base = gradient(
                    &[
                        (0.0, hex(0x15152a)),
                        (0.3, hex(0x1f4fd1)),
                        (0.55, hex(0xe8243c)),
                        (0.8, hex(0xffd400)),
                        (1.0, hex(0xfff6d6)),
                    ],
                    npr::quantise(l, 4.0, 20.0),
                );
                let dots = npr::halftone(x, y, cell, 0.4, (1.0 - l) * 0.6);
                npr::scale(mix(base, npr::scale(base, 0.55), dots), lines.at(x, y))
            })
        }
        6 => npr::map(p, |x, y, c| {
            let l = npr::luma_of(c);
            let tone = gradient(
                &[
                    (0.0, hex(0x2b1a0e)),
                    (0.5, hex(0x9a7148)),
                    (1.0, hex(0xf5e6c8)),
                ],
                l,
            );
            let grain = (npr::hash(x as i64, y as i64, 6) - 0.5) * 0.05;
            npr::scale(
                [tone[0] + grain, tone[1] + grain, tone[2] + grain],
                npr::vignette(x, y, w, h, 0.45),
            )
        }),
        7 => npr::map(p, |x, y, c| {
            let l = smoothstep(0.1, 0.85, npr::luma_of(c)).powf(1.2);
            npr::scale([l; 3], npr::vignette(x, y, w, h, 0.8))
        }),
        8 => {
            let edges = styles::boundaries(&npr::smooth(p, 10.0, 0.3), u);
            let lines = styles::outlines(p, u, 0.8).zip(&edges, f32::min);
            npr::render(w, h, |x, y| {
                let grid = (x as f32 / (30.0 * u)).fract() < 0.03 / u.max(0.3)
                    || (y as f32 / (30.0 * u)).fract() < 0.03 / u.max(0.3);
                let base = if grid { hex(0x2f5f9f) } else { hex(0x1c4a86) };
                mix(hex(0xeef4ff), base, lines.at(x, y))
            })
        }
        9 => {
            let smooth = npr::smooth(p, 10.0, 0.3);
            let edges = npr::gradient_magnitude(&npr::luma(&smooth));
            let glow = npr::blur(&edges, 4.0 * u);
            npr::map(&smooth, |x, y, c| {
                let hue = npr::saturate(npr::with_luma(c, 0.6), 3.0);
                let core = smoothstep(0.02, 0.12, edges.at(x, y) * u.max(0.5));
                let halo = (glow.at(x, y) * 12.0 * u.max(0.5)).min(1.0);
                npr::clamp01(npr::screen(
                    npr::scale(npr::clamp01(hue), halo),
                    [core * 0.9; 3],
                ))
            })
        }
        10 => {
            let soft = npr::smooth(p, 40.0, 0.5);
            npr::map(&soft, |x, y, c| {
                let c = mix(npr::saturate(c, 0.7), [0.98, 0.95, 0.97], 0.35);
                let chalk = 0.96 + 0.04 * npr::fbm(x as f32 / (2.0 * u), y as f32 / (2.0 * u), 10);
                npr::scale(npr::clamp01(c), chalk)
            })
        }
        11 => {
            let cells = npr::at_work_size(p, npr::WORK_PIXELS, |s| {
                let su = npr::unit(s);
                npr::edge_preserving(
                    &npr::pixelate(s, (6.0 * su).max(2.0) as usize),
                    30.0 * su,
                    0.2,
                )
            });
            let lead = npr::thicken(&styles::outlines(&cells, u, 1.0), 1.5 * u);
            npr::map(&cells, |x, y, c| {
                let glass = npr::clamp01(npr::saturate(c, 2.0));
                let shine = 0.9 + 0.2 * npr::fbm(x as f32 / (20.0 * u), y as f32 / (20.0 * u), 12);
                npr::scale(npr::clamp01(npr::scale(glass, shine)), lead.at(x, y))
            })
        }
        12 => {
            let tile = (12.0 * u).max(3.0) as usize;
            let tiles = npr::pixelate(p, tile);
            let grout = (tile as f32 * 0.12).max(1.0) as usize;
            npr::map(&tiles, |x, y, c| {
                if x % tile < grout || y % tile < grout {
                    hex(0xd8d2c4)
                } else {
                    let jitter = 0.93 + 0.07 * npr::hash((x / tile) as i64, (y / tile) as i64, 12);
                    npr::scale(c, jitter)
                }
            })
        }
        13 => {
            let l = npr::luma(p);
            let shift = (3.0 * u).max(1.0) as usize;
            npr::render(w, h, |x, y| {
                let pink = 1.0 - l.at(x, y);
                let blue = 1.0 - l.at(x.saturating_sub(shift), y.saturating_sub(shift / 2));
                let grain = npr::hash(x as i64, y as i64, 13);
                let ink_p = smoothstep(0.15, 0.85, pink + 0.15 * (grain - 0.5));
                let ink_b = smoothstep(0.45, 1.0, blue + 0.15 * (grain - 0.5));
                let paper = hex(0xf6f0e6);
                let c = mix(paper, npr::mul(paper, hex(0xff5fa2)), ink_p * 0.9);
                mix(c, npr::mul(c, hex(0x2b59c3)), ink_b * 0.85)
            })
        }
        14 => gradient_map(
            p,
            &[
                (0.0, hex(0x0b1f4d)),
                (0.5, hex(0x2a5ea8)),
                (1.0, hex(0xe8f0f7)),
            ],
        ),
        15 => npr::map(p, |_, _, c| {
            let green = smoothstep(0.0, 0.1, c[1] - c[0].max(c[2]) + 0.03);
            let turned = [
                c[1] * 0.9 + c[0] * 0.4,
                c[1] * 0.45 + c[0] * 0.2,
                c[2] * 0.5,
            ];
            let c = mix(c, turned, green);
            npr::clamp01(npr::saturate([c[0] * 1.08, c[1] * 0.98, c[2] * 0.85], 1.25))
        }),
        16 => npr::map(p, |_, _, c| {
            let l = npr::luma_of(c);
            let tint = gradient(
                &[
                    (0.0, hex(0x0b2b33)),
                    (0.45, hex(0x3f7f86)),
                    (0.7, hex(0xe59a5c)),
                    (1.0, hex(0xfff1e0)),
                ],
                l,
            );
            npr::clamp01(mix(npr::saturate(c, 1.1), npr::with_luma(tint, l), 0.45))
        }),
        17 => npr::map(p, |x, y, c| {
            let c = npr::saturate(c, 0.75);
            let c = [0.08 + c[0] * 0.88, 0.07 + c[1] * 0.84, 0.1 + c[2] * 0.72];
            let grain = (npr::hash(x as i64, y as i64, 17) - 0.5) * 0.07;
            npr::clamp01([c[0] + grain, c[1] + grain, c[2] + grain])
        }),
        18 => npr::map(p, |_, _, c| {
            let foliage = smoothstep(-0.02, 0.12, c[1] - c[0].max(c[2]) + 0.05);
            let l = npr::luma_of(c);
            let ir = [
                (c[1] * 1.4 + 0.2).min(1.0),
                (c[0] * 0.8 + 0.1 * l).min(1.0),
                (c[2] * 0.9 + 0.2 * foliage).min(1.0),
            ];
            npr::clamp01(mix(
                npr::saturate(ir, 0.9),
                [1.0, 0.86, 0.92],
                foliage * 0.6,
            ))
        }),
        19 => {
            // Luma is linear in RGB, so blurring it equals the luma of a blurred image.
            let heat = npr::blur(&npr::luma(p), 1.5 * u);
            npr::render(w, h, |x, y| {
                gradient(
                    &[
                        (0.0, hex(0x000010)),
                        (0.25, hex(0x3b0f70)),
                        (0.45, hex(0x8c2981)),
                        (0.6, hex(0xde4968)),
                        (0.78, hex(0xfe9f6d)),
                        (1.0, hex(0xfcfdbf)),
                    ],
                    heat.at(x, y),
                )
            })
        }
        20 => npr::map(p, |x, y, c| {
            let l = (npr::luma_of(c) * 1.4).min(1.0);
            let scan = if ((y as f32 / (2.0 * u.max(0.5))) as usize).is_multiple_of(2) {
                1.0
            } else {
                0.8
            };
            let noise = (npr::hash(x as i64, y as i64, 20) - 0.5) * 0.18;
            let v = ((l + noise) * scan).clamp(0.0, 1.0) * npr::vignette(x, y, w, h, 0.9);
            [v * 0.35, v, v * 0.3]
        }),
        21 => {
            let colours = npr::smooth(p, 25.0, 0.4);
            let wax = npr::hatching(w, h, 1.2, (7.0 * u).max(2.0), 21);
            let lines = styles::outlines(p, u, 1.0);
            npr::map(&colours, |x, y, c| {
                let paper = npr::paper(x, y, u, hex(0xfaf6ec));
                let cover = 0.35 + 0.65 * wax.at(x, y);
                let pigment = npr::clamp01(npr::saturate(c, 1.8));
                npr::scale(mix(paper, pigment, cover), 0.4 + 0.6 * lines.at(x, y))
            })
        }
        22 => {
            let l = npr::blur(&npr::luma(p), 1.0 * u);
            let period = (4.0 * u).max(2.5);
            npr::render(w, h, |x, y| {
                let t = l.at(x, y);
                // Line width follows darkness; the lines wave with the tone for a burin look.
                let phase = (x as f32 + y as f32 * 0.5 + 6.0 * u * t) / period;
                let across = (phase - phase.round()).abs() * 2.0;
                let ink = smoothstep(0.1, 0.0, across - (1.0 - t) * 0.9);
                mix(hex(0xf2eddf), hex(0x1b2330), ink)
            })
        }
        23 => npr::map(p, |_, _, c| c.map(|v| (v * 3.999).floor() / 3.0)),
        24 => {
            let block = (4.0 * u).max(2.0) as usize;
            let small = npr::pixelate(p, block);
            gradient_map(
                &small,
                &[
                    (0.0, hex(0x0f380f)),
                    (0.33, hex(0x306230)),
                    (0.66, hex(0x8bac0f)),
                    (1.0, hex(0x9bbc0f)),
                ],
            )
        }
        25 => recolour(
            &styles::render(p, Style::Wave),
            &[
                (0.0, hex(0x1c0f2e)),
                (0.4, hex(0x6a2c5e)),
                (0.7, hex(0xe0774b)),
                (1.0, hex(0xf8e0b0)),
            ],
        ),
        26 => recolour(
            &styles::render(p, Style::Scream),
            &[
                (0.0, hex(0x120a24)),
                (0.35, hex(0x4a2a7a)),
                (0.65, hex(0xb05fb0)),
                (0.85, hex(0xe8b04a)),
                (1.0, hex(0xfff0c0)),
            ],
        ),
        27 => {
            let painted = styles::render(p, Style::Mononoke);
            npr::map(&painted, |_, _, c| {
                let l = npr::luma_of(c);
                npr::clamp01(mix(
                    c,
                    gradient(
                        &[
                            (0.0, hex(0x06210f)),
                            (0.5, hex(0x1f7a3a)),
                            (1.0, hex(0xd9f5b0)),
                        ],
                        l,
                    ),
                    0.7,
                ))
            })
        }
        28 => {
            let glow = npr::at_work_size(p, npr::WORK_PIXELS, |s| {
                npr::blur_rgb(s, 6.0 * npr::unit(s))
            });
            npr::map(p, |x, y, c| {
                let soft = mix(c, npr::px(&glow, y * w + x), 0.4);
                let l = npr::luma_of(soft);
                let ice = gradient(
                    &[
                        (0.0, hex(0x1a2a40)),
                        (0.5, hex(0x8fb4d4)),
                        (1.0, hex(0xf4fbff)),
                    ],
                    0.2 + 0.8 * l,
                );
                npr::clamp01(mix(ice, npr::saturate(soft, 0.3), 0.25))
            })
        }
        _ => {
            let lines = styles::outlines(p, u, 1.2);
            let smooth = npr::smooth(p, 30.0, 0.3);
            npr::map(&smooth, |x, y, c| {
                let l = npr::quantise(npr::luma_of(c), 5.0, 6.0);
                let gold = gradient(
                    &[
                        (0.0, hex(0x0a0806)),
                        (0.45, hex(0x5a3d0c)),
                        (0.75, hex(0xc9962c)),
                        (1.0, hex(0xfff0b3)),
                    ],
                    l,
                );
                let sheen = 0.9 + 0.15 * npr::fbm(x as f32 / (15.0 * u), y as f32 / (15.0 * u), 29);
                npr::scale(npr::clamp01(npr::scale(gold, sheen)), lines.at(x, y))
            })
        }
    }
}

/// Keeps a rendering's tones and replaces its colours by `stops` (luma to colour).
fn recolour(img: &Rgb, stops: &[(f32, [f32; 3])]) -> Rgb {
    npr::map(img, |_, _, c| {
        mix(gradient(stops, npr::luma_of(c)), c, 0.15)
    })
}

/// sRGB encoding, linear light in 0..1.
fn to_linear(v: f32) -> f32 {
    if v <= 0.040_45 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light to sRGB, through a table (the results are rounded to 8 bits anyway).
struct Encoder {
    table: Vec<f32>,
}

impl Encoder {
    const SIZE: usize = 4096;

    fn new() -> Self {
        let table = (0..=Self::SIZE)
            .map(|i| {
                let v = i as f32 / Self::SIZE as f32;
                if v <= 0.003_130_8 {
                    v * 12.92
                } else {
                    1.055 * v.powf(1.0 / 2.4) - 0.055
                }
            })
            .collect();
        Self { table }
    }

    fn encode(&self, v: f32) -> f32 {
        let t = v.clamp(0.0, 1.0) * Self::SIZE as f32;
        let i = t as usize;
        let f = t - i as f32;
        let a = self.table[i.min(Self::SIZE)];
        let b = self.table[(i + 1).min(Self::SIZE)];
        a + (b - a) * f
    }
}

/// sRGB (0..1) to Oklab.
fn oklab(c: [f32; 3], decode: &[f32; 256]) -> [f32; 3] {
    let lin = |v: f32| decode[(v.clamp(0.0, 1.0) * 255.0).round() as usize];
    let (r, g, b) = (lin(c[0]), lin(c[1]), lin(c[2]));
    let l = (0.412_221_46 * r + 0.536_332_55 * g + 0.051_445_995 * b).cbrt();
    let m = (0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b).cbrt();
    let s = (0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b).cbrt();
    [
        0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
        1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
        0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
    ]
}

/// Oklab to sRGB (0..1).
fn from_oklab(c: [f32; 3], enc: &Encoder) -> [f32; 3] {
    let l = c[0] + 0.396_337_78 * c[1] + 0.215_803_76 * c[2];
    let m = c[0] - 0.105_561_346 * c[1] - 0.063_854_17 * c[2];
    let s = c[0] - 0.089_484_18 * c[1] - 1.291_485_5 * c[2];
    let (l, m, s) = (l * l * l, m * m * m, s * s * s);
    [
        enc.encode(4.076_741_7 * l - 3.307_711_6 * m + 0.230_969_94 * s),
        enc.encode(-1.268_438 * l + 2.609_757_4 * m - 0.341_319_38 * s),
        enc.encode(-0.004_196_086_3 * l - 0.703_418_6 * m + 1.707_614_7 * s),
    ]
}

/// Table of the 256 sRGB codes in linear light.
fn decode_table() -> [f32; 256] {
    std::array::from_fn(|i| to_linear(i as f32 / 255.0))
}

/// Statistics of an image in Oklab, gathered in a fixed order (deterministic).
struct Stats {
    /// Cumulative histogram of L over 256 bins, 0..1.
    cdf: Vec<f64>,
    mean: [f64; 2],
    std: [f64; 2],
    /// Standard deviation of the detail layer (L minus its blur).
    detail: f64,
    /// The eight dominant colours.
    palette: Vec<[f32; 3]>,
}

const BINS: usize = 256;

fn stats(lab: &Rgb, detail: &Plane) -> Stats {
    let n = lab[0].data.len().max(1) as f64;
    let mut hist = vec![0.0f64; BINS];
    let (mut sum, mut sq) = ([0.0f64; 2], [0.0f64; 2]);
    let mut dsq = 0.0f64;
    for i in 0..lab[0].data.len() {
        let l = lab[0].data[i];
        hist[((l.clamp(0.0, 1.0) * (BINS - 1) as f32).round()) as usize] += 1.0;
        for c in 0..2 {
            let v = f64::from(lab[c + 1].data[i]);
            sum[c] += v;
            sq[c] += v * v;
        }
        dsq += f64::from(detail.data[i]).powi(2);
    }
    let mut acc = 0.0;
    let cdf = hist
        .iter()
        .map(|h| {
            acc += h / n;
            acc
        })
        .collect();
    let mean = [sum[0] / n, sum[1] / n];
    let std = std::array::from_fn(|c| (sq[c] / n - mean[c] * mean[c]).max(0.0).sqrt());
    Stats {
        cdf,
        mean,
        std,
        detail: (dsq / n).sqrt(),
        palette: kmeans(lab, 8),
    }
}

/// Eight dominant colours by k-means (deterministic initialisation along L).
fn kmeans(lab: &Rgb, k: usize) -> Vec<[f32; 3]> {
    let n = lab[0].data.len();
    if n == 0 {
        return Vec::new();
    }
    // Subsample: a few thousand pixels decide a palette.
    let stride = (n / 4096).max(1);
    let samples: Vec<[f32; 3]> = (0..n).step_by(stride).map(|i| npr::px(lab, i)).collect();
    let mut sorted: Vec<usize> = (0..samples.len()).collect();
    sorted.sort_by(|&a, &b| samples[a][0].total_cmp(&samples[b][0]));
    let mut centres: Vec<[f32; 3]> = (0..k)
        .map(|j| samples[sorted[(2 * j + 1) * sorted.len() / (2 * k)]])
        .collect();
    for _ in 0..8 {
        let mut sums = vec![[0.0f64; 4]; k];
        for s in &samples {
            let j = nearest(&centres, *s);
            for c in 0..3 {
                sums[j][c] += f64::from(s[c]);
            }
            sums[j][3] += 1.0;
        }
        for (centre, sum) in centres.iter_mut().zip(&sums) {
            if sum[3] > 0.0 {
                *centre = std::array::from_fn(|c| (sum[c] / sum[3]) as f32);
            }
        }
    }
    centres
}

fn nearest(centres: &[[f32; 3]], c: [f32; 3]) -> usize {
    let mut best = (0, f32::INFINITY);
    for (j, p) in centres.iter().enumerate() {
        let d = (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2);
        if d < best.1 {
            best = (j, d);
        }
    }
    best.0
}

/// The look of `style` transferred onto `img`.
pub(crate) fn transfer(img: &RgbImage, style: &RgbImage) -> RgbImage {
    if img.width() == 0 || img.height() == 0 || style.width() == 0 || style.height() == 0 {
        return img.clone();
    }
    npr::render_capped(img, |img| transfer_rendered(img, style))
}

fn transfer_rendered(img: &RgbImage, style: &RgbImage) -> RgbImage {
    let decode = decode_table();
    let enc = Encoder::new();
    let to_lab = |p: &Rgb| npr::map(p, |_, _, c| oklab(c, &decode));
    // The style's statistics from a copy of at most ~0.25 MP, like the input's detail.
    let (style_small, _) = npr::shrink(&npr::planes_of(style), 512);
    let style_lab = to_lab(&style_small);
    let su = npr::unit(&style_small);
    let style_detail = detail_layer(&style_lab[0], su);
    let target = stats(&style_lab, &style_detail);

    let input = npr::planes_of(img);
    let u = npr::unit(&input);
    let (small, _) = npr::shrink(&input, 512);
    let small_lab = to_lab(&small);
    let source = stats(&small_lab, &detail_layer(&small_lab[0], npr::unit(&small)));

    // A flat style (painting, poster) flattens the photo before anything else.
    let gain = (target.detail / source.detail.max(1e-4)).clamp(0.0, 3.0) as f32;
    let base = if gain < 0.8 {
        npr::smooth(&input, 30.0 * (1.0 - gain).max(0.3), 0.35)
    } else {
        input
    };
    let lab = to_lab(&base);
    let detail = detail_layer(&lab[0], u);
    let lut = match_histogram(&source.cdf, &target.cdf);
    let scale_ab: [f32; 2] =
        std::array::from_fn(|c| (target.std[c] / source.std[c].max(1e-4)).clamp(0.2, 3.0) as f32);
    let detail_gain = gain.clamp(0.5, 2.5);
    let (w, _) = npr::dims(&lab);
    let out = npr::render(lab[0].width, lab[0].height, |x, y| {
        let i = y * w + x;
        let c = npr::px(&lab, i);
        let d = detail.data[i];
        let l_base = c[0] - d;
        let idx = (l_base.clamp(0.0, 1.0) * (BINS - 1) as f32).round() as usize;
        let l = lut[idx] + d * detail_gain;
        let a = (f64::from(c[1]) - source.mean[0]) as f32 * scale_ab[0] + target.mean[0] as f32;
        let b = (f64::from(c[2]) - source.mean[1]) as f32 * scale_ab[1] + target.mean[1] as f32;
        let mut out = [l, a, b];
        if !target.palette.is_empty() {
            let near = target.palette[nearest(&target.palette, out)];
            out = mix(out, near, 0.3);
        }
        npr::clamp01(from_oklab(out, &enc))
    });
    npr::image_of(&out)
}

/// Lightness minus its blur at a few reference pixels: the photo's fine texture.
fn detail_layer(l: &Plane, u: f32) -> Plane {
    l.zip(&npr::blur(l, 2.5 * u), |a, b| a - b)
}

/// A 256-entry table mapping lightness with cumulative histogram `from` to `to`.
fn match_histogram(from: &[f64], to: &[f64]) -> Vec<f32> {
    let mut j = 0;
    from.iter()
        .map(|&f| {
            while j + 1 < to.len() && to[j] < f {
                j += 1;
            }
            j as f32 / (BINS - 1) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> RgbImage {
        RgbImage::from_fn(96, 64, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 3) as u8, ((x + y) % 256) as u8])
        })
    }

    #[test]
    fn thirty_distinct_presets() {
        let img = photo();
        let outs: Vec<RgbImage> = (0..30).map(|id| preset(&img, id)).collect();
        for (i, a) in outs.iter().enumerate() {
            assert_eq!(a.dimensions(), img.dimensions());
            for b in &outs[i + 1..] {
                assert_ne!(a, b, "preset {i} repeats another");
            }
        }
    }

    #[test]
    fn oklab_round_trips() {
        let decode = decode_table();
        let enc = Encoder::new();
        for c in [
            [0.0, 0.0, 0.0],
            [1.0, 1.0, 1.0],
            [0.8, 0.2, 0.4],
            [0.1, 0.6, 0.9],
        ] {
            let back = from_oklab(oklab(c, &decode), &enc);
            for k in 0..3 {
                assert!((back[k] - c[k]).abs() < 0.01, "{c:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn transfer_takes_the_style_palette() {
        let img = photo();
        // An orange-and-purple style image.
        let style = RgbImage::from_fn(80, 80, |x, _| {
            if x < 40 {
                image::Rgb([240, 130, 40])
            } else {
                image::Rgb([90, 40, 140])
            }
        });
        let out = transfer(&img, &style);
        assert_eq!(out.dimensions(), img.dimensions());
        let mean = |im: &RgbImage, c: usize| {
            im.pixels().map(|p| f64::from(p.0[c])).sum::<f64>()
                / f64::from(im.width() * im.height())
        };
        // Red up, green down relative to the photo: the style's hues came across.
        assert!(mean(&out, 0) > mean(&img, 0) + 10.0);
        assert!(mean(&out, 1) < mean(&img, 1));
    }
}
