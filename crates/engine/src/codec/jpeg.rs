//! A baseline JPEG encoder written for speed: what libjpeg writes by default (JFIF, the
//! standard tables scaled by quality, Annex K Huffman tables, 4:2:0 chroma averaged over
//! each 2×2 square), computed with a float AAN DCT that works on whole rows of a block at
//! once (so the compiler vectorises it), the quantisation folded into the DCT's scale
//! factors, and a Huffman coder that skips runs of zeros with a bit mask and writes 32 bits
//! at a time. The `jpeg-encoder` crate it replaces spent most of its time per coefficient
//! in its block and Huffman loops.
// The per-block steps are forced inline: measured at 1080p, letting the compiler choose
// costs about 2 ms of the 12.
#![allow(clippy::inline_always)]

/// The pixels handed to [`encode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pixels<'a> {
    /// 8-bit RGB, row-major, no padding.
    Rgb(&'a [u8]),
    /// 8-bit greyscale, row-major, no padding.
    Grey(&'a [u8]),
}

/// Why an image cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodeError(pub String);

/// The JPEG standard's example luminance table (Annex K.1), in natural order.
pub(crate) const LUMA_QUANT: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// The JPEG standard's example chrominance table (Annex K.1), in natural order.
const CHROMA_QUANT: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Natural-order index of each zigzag position.
pub(crate) const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Annex K.3 Huffman tables: code counts per length 1–16, then the symbols.
const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];
const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// A quality-scaled quantisation table, as libjpeg scales it (`jpeg_quality_scaling`),
/// in natural order.
pub(crate) fn scaled_table(base: &[u16; 64], quality: u8) -> [u16; 64] {
    let quality = u32::from(quality.clamp(1, 100));
    let scale = if quality < 50 {
        5000 / quality
    } else {
        200 - quality * 2
    };
    base.map(|q| ((u32::from(q) * scale + 50) / 100).clamp(1, 255) as u16)
}

/// The AAN DCT's output scale per frequency: cos(k·π/16)·√2, and 1 for k = 0.
const AAN_SCALE: [f32; 8] = [
    1.0,
    1.387_039_8,
    1.306_563,
    1.175_875_6,
    1.0,
    0.785_694_96,
    0.541_196_1,
    0.275_899_38,
];

/// Multipliers that turn the unscaled AAN output into quantised values. The DCT leaves
/// its result transposed (index `u * 8 + v` for horizontal frequency `u`, vertical `v`),
/// so they are laid out the same way.
fn divisors(table: &[u16; 64]) -> [f32; 64] {
    std::array::from_fn(|i| {
        let (u, v) = (i / 8, i % 8);
        1.0 / (f32::from(table[v * 8 + u]) * AAN_SCALE[u] * AAN_SCALE[v] * 8.0)
    })
}

/// Adding this to a float of magnitude below 2²² leaves the integer nearest to it (ties to
/// even) in the low bits of its representation: rounding without a float-to-int
/// conversion, which the compiler cannot vectorise with Rust's saturating `as`.
const ROUNDING: f32 = 12_582_912.0;
const ROUNDING_BITS: i32 = 0x4B40_0000;

/// Where zigzag position `k`'s coefficient is in the DCT's transposed output.
const fn transposed_zigzag() -> [usize; 64] {
    let mut out = [0; 64];
    let mut k = 0;
    while k < 64 {
        let n = ZIGZAG[k];
        out[k] = (n % 8) * 8 + n / 8;
        k += 1;
    }
    out
}
const ZIGZAG_T: [usize; 64] = transposed_zigzag();

/// One 8×8 block of samples, row-major.
type Block = [f32; 64];

/// The AAN 1-D DCT (as libjpeg's `jfdctflt.c`) down every column of `d`, written as a loop
/// over the columns so that the compiler turns each step into vector operations on whole
/// rows. The output is scaled by [`AAN_SCALE`].
#[inline(always)]
fn dct_columns(d: &mut Block) {
    for i in 0..8 {
        let tmp0 = d[i] + d[56 + i];
        let tmp7 = d[i] - d[56 + i];
        let tmp1 = d[8 + i] + d[48 + i];
        let tmp6 = d[8 + i] - d[48 + i];
        let tmp2 = d[16 + i] + d[40 + i];
        let tmp5 = d[16 + i] - d[40 + i];
        let tmp3 = d[24 + i] + d[32 + i];
        let tmp4 = d[24 + i] - d[32 + i];

        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        d[i] = tmp10 + tmp11;
        d[32 + i] = tmp10 - tmp11;
        let z1 = (tmp12 + tmp13) * 0.707_106_77;
        d[16 + i] = tmp13 + z1;
        d[48 + i] = tmp13 - z1;

        let tmp10 = tmp4 + tmp5;
        let tmp11 = tmp5 + tmp6;
        let tmp12 = tmp6 + tmp7;
        let z5 = (tmp10 - tmp12) * 0.382_683_43;
        let z2 = tmp10 * 0.541_196_1 + z5;
        let z4 = tmp12 * 1.306_563 + z5;
        let z3 = tmp11 * 0.707_106_77;
        let z11 = tmp7 + z3;
        let z13 = tmp7 - z3;
        d[40 + i] = z13 + z2;
        d[24 + i] = z13 - z2;
        d[8 + i] = z11 + z4;
        d[56 + i] = z11 - z4;
    }
}

#[inline(always)]
fn transpose(from: &Block, to: &mut Block) {
    for r in 0..8 {
        for c in 0..8 {
            to[c * 8 + r] = from[r * 8 + c];
        }
    }
}

/// A quantised block in zigzag order, and which of its positions are not zero.
struct Quantised {
    zz: [i16; 64],
    nonzero: u64,
}

/// DCT and quantisation of one level-shifted block (`block[y * 8 + x]`; `scratch` is
/// overwritten) into `out`.
#[inline(always)]
fn transform(block: &mut Block, scratch: &mut Block, div: &[f32; 64], out: &mut Quantised) {
    dct_columns(block);
    transpose(block, scratch);
    dct_columns(scratch);
    let mut q = [0i32; 64];
    for ((q, &c), &d) in q.iter_mut().zip(scratch.iter()).zip(div) {
        // 8-bit samples keep every coefficient within ±1100; the clamp only guards the
        // Huffman tables' 11-bit limit.
        *q = ((c * d + ROUNDING).to_bits() as i32 - ROUNDING_BITS).clamp(-2047, 2047);
    }
    for (z, &n) in out.zz.iter_mut().zip(&ZIGZAG_T) {
        *z = q[n] as i16;
    }
    // One bit per position: the low bit of each byte gathered by a multiplication.
    let mut nonzero = 0u64;
    for (i, chunk) in out.zz.chunks_exact(8).enumerate() {
        let bytes = chunk
            .iter()
            .rev()
            .fold(0u64, |acc, &v| (acc << 8) | u64::from(v != 0));
        nonzero |= (bytes.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (i * 8);
    }
    out.nonzero = nonzero;
}

/// Code (right-aligned) and length for every symbol of a Huffman table.
struct Huffman {
    code: [u16; 256],
    len: [u8; 256],
}

impl Huffman {
    /// The canonical codes of Annex C.
    fn new(bits: &[u8; 16], values: &[u8]) -> Self {
        let mut table = Self {
            code: [0; 256],
            len: [0; 256],
        };
        let mut code = 0u16;
        let mut k = 0;
        for (length, &count) in bits.iter().enumerate() {
            for _ in 0..count {
                if let Some(&symbol) = values.get(k) {
                    table.code[usize::from(symbol)] = code;
                    table.len[usize::from(symbol)] = length as u8 + 1;
                }
                code = code.wrapping_add(1);
                k += 1;
            }
            code <<= 1;
        }
        table
    }
}

/// Entropy-coded data: bits gathered in a 64-bit word and written 32 at a time, with a
/// zero byte stuffed after every 0xFF.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    #[inline(always)]
    fn put(&mut self, code: u32, len: u32) {
        // `len` ≤ 27 and fewer than 32 bits are pending, so nothing is lost.
        self.acc = (self.acc << len) | u64::from(code);
        self.bits += len;
        if self.bits >= 32 {
            self.bits -= 32;
            let word = (self.acc >> self.bits) as u32;
            // Any 0xFF byte in the word? (the zero-byte test on its complement)
            let inverted = !word;
            if inverted.wrapping_sub(0x0101_0101) & !inverted & 0x8080_8080 == 0 {
                self.out.extend_from_slice(&word.to_be_bytes());
            } else {
                for byte in word.to_be_bytes() {
                    self.out.push(byte);
                    if byte == 0xFF {
                        self.out.push(0);
                    }
                }
            }
        }
    }

    /// Pads the last byte with one bits, as the standard asks.
    fn finish(mut self) -> Vec<u8> {
        let pad = (8 - self.bits % 8) % 8;
        self.acc = (self.acc << pad) | ((1u64 << pad) - 1);
        self.bits += pad;
        while self.bits >= 8 {
            self.bits -= 8;
            let byte = (self.acc >> self.bits) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
        self.out
    }
}

/// Bit count and bits of a coefficient, as the standard codes them.
#[inline(always)]
fn magnitude(v: i32) -> (u32, u32) {
    let size = 32 - v.unsigned_abs().leading_zeros();
    let bits = if v < 0 { v - 1 } else { v } as u32 & ((1u32 << size) - 1);
    (size, bits)
}

/// One block's Huffman codes.
#[inline(always)]
fn write_block(w: &mut BitWriter, q: &Quantised, prev_dc: &mut i32, dc: &Huffman, ac: &Huffman) {
    let diff = i32::from(q.zz[0]) - *prev_dc;
    *prev_dc = i32::from(q.zz[0]);
    let (size, bits) = magnitude(diff);
    let s = size as usize;
    w.put(
        (u32::from(dc.code[s]) << size) | bits,
        u32::from(dc.len[s]) + size,
    );
    let mut rest = q.nonzero & !1;
    let mut last = 0u32;
    while rest != 0 {
        let k = rest.trailing_zeros();
        rest &= rest - 1;
        let mut run = k - last - 1;
        while run >= 16 {
            w.put(u32::from(ac.code[0xF0]), u32::from(ac.len[0xF0]));
            run -= 16;
        }
        let (size, bits) = magnitude(i32::from(q.zz[k as usize]));
        let symbol = ((run << 4) | size) as usize;
        w.put(
            (u32::from(ac.code[symbol]) << size) | bits,
            u32::from(ac.len[symbol]) + size,
        );
        last = k;
    }
    if last != 63 {
        w.put(u32::from(ac.code[0]), u32::from(ac.len[0]));
    }
}

fn marker_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

fn headers(out: &mut Vec<u8>, width: u16, height: u16, tables: &[[u16; 64]], colour: bool) {
    out.extend_from_slice(&[0xFF, 0xD8]);
    // JFIF 1.1, no density.
    marker_segment(out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    for (id, table) in tables.iter().enumerate() {
        let mut dqt = vec![id as u8];
        dqt.extend(ZIGZAG.iter().map(|&n| table[n] as u8));
        marker_segment(out, 0xDB, &dqt);
    }
    let mut sof = vec![8];
    sof.extend_from_slice(&height.to_be_bytes());
    sof.extend_from_slice(&width.to_be_bytes());
    if colour {
        sof.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    } else {
        sof.extend_from_slice(&[1, 1, 0x11, 0]);
    }
    marker_segment(out, 0xC0, &sof);
    let mut dht = Vec::new();
    let mut table = |class_id: u8, bits: &[u8; 16], values: &[u8]| {
        dht.push(class_id);
        dht.extend_from_slice(bits);
        dht.extend_from_slice(values);
    };
    table(0x00, &DC_LUMA_BITS, &DC_VALUES);
    table(0x10, &AC_LUMA_BITS, &AC_LUMA_VALUES);
    if colour {
        table(0x01, &DC_CHROMA_BITS, &DC_VALUES);
        table(0x11, &AC_CHROMA_BITS, &AC_CHROMA_VALUES);
    }
    marker_segment(out, 0xC4, &dht);
    if colour {
        marker_segment(out, 0xDA, &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
    } else {
        marker_segment(out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
    }
}

/// Copies the 8×8 block at column `x` of `rows` (`stride` floats a row) into `block`.
#[inline(always)]
fn gather(rows: &[f32], stride: usize, x: usize, block: &mut Block) {
    for (r, row) in block.chunks_exact_mut(8).enumerate() {
        let start = r * stride + x;
        if let Some(src) = rows.get(start..start + 8) {
            row.copy_from_slice(src);
        }
    }
}

/// Encodes `pixels` (`width` × `height`) as a baseline JPEG at `quality` (1–100): 4:2:0
/// YCbCr for colour, one component for grey.
pub(crate) fn encode(
    pixels: Pixels<'_>,
    width: u32,
    height: u32,
    quality: u8,
) -> Result<Vec<u8>, EncodeError> {
    let (Ok(w16), Ok(h16)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(EncodeError(format!(
            "{width}x{height} exceeds JPEG's 65535-pixel side"
        )));
    };
    if width == 0 || height == 0 {
        return Err(EncodeError("an empty image".into()));
    }
    let (w, h) = (width as usize, height as usize);
    let (data, colour) = match pixels {
        Pixels::Rgb(d) => (d, true),
        Pixels::Grey(d) => (d, false),
    };
    let channels = if colour { 3 } else { 1 };
    if data.len() < w * h * channels {
        return Err(EncodeError(format!(
            "{} bytes for a {width}x{height} image",
            data.len()
        )));
    }
    let luma_table = scaled_table(&LUMA_QUANT, quality);
    let chroma_table = scaled_table(&CHROMA_QUANT, quality);
    let tables: &[[u16; 64]] = if colour {
        &[luma_table, chroma_table]
    } else {
        &[luma_table]
    };
    // Roughly what quality 92 produces for photos, to avoid regrowing the buffer.
    let mut out = Vec::with_capacity(w * h / 4 + 1024);
    headers(&mut out, w16, h16, tables, colour);
    let mut writer = BitWriter {
        out,
        acc: 0,
        bits: 0,
    };
    let luma = (
        divisors(&luma_table),
        Huffman::new(&DC_LUMA_BITS, &DC_VALUES),
        Huffman::new(&AC_LUMA_BITS, &AC_LUMA_VALUES),
    );
    if colour {
        let chroma = (
            divisors(&chroma_table),
            Huffman::new(&DC_CHROMA_BITS, &DC_VALUES),
            Huffman::new(&AC_CHROMA_BITS, &AC_CHROMA_VALUES),
        );
        pulp::Arch::new().dispatch(Scan {
            writer: &mut writer,
            data,
            w,
            h,
            luma: &luma,
            chroma: Some(&chroma),
        });
    } else {
        pulp::Arch::new().dispatch(Scan {
            writer: &mut writer,
            data,
            w,
            h,
            luma: &luma,
            chroma: None,
        });
    }
    let mut out = writer.finish();
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

type Tables = ([f32; 64], Huffman, Huffman);

/// The whole scan, handed to pulp so that it is compiled once per instruction set (AVX2
/// and the rest) and the best one chosen at run time: the colour conversion and the DCT
/// vectorise twice as wide. Rust never fuses a multiply and an add on its own, so every
/// instruction set computes the same floats and writes the same bytes.
struct Scan<'a> {
    writer: &'a mut BitWriter,
    data: &'a [u8],
    w: usize,
    h: usize,
    luma: &'a Tables,
    /// `None` for a greyscale image.
    chroma: Option<&'a Tables>,
}

impl pulp::WithSimd for Scan<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        if let Some(chroma) = self.chroma {
            encode_colour(self.writer, self.data, self.w, self.h, self.luma, chroma);
        } else {
            encode_grey(self.writer, self.data, self.w, self.h, self.luma);
        }
    }
}

#[inline(always)]
fn encode_grey(writer: &mut BitWriter, data: &[u8], w: usize, h: usize, luma: &Tables) {
    let stride = w.div_ceil(8) * 8;
    let mut rows = vec![0f32; 8 * stride];
    let mut prev_dc = 0;
    let mut block = [0f32; 64];
    let mut scratch = [0f32; 64];
    let mut q = Quantised {
        zz: [0; 64],
        nonzero: 0,
    };
    for by in 0..h.div_ceil(8) {
        for r in 0..8 {
            // Rows and columns past the edge repeat the last ones.
            let y = (by * 8 + r).min(h - 1);
            let src = &data[y * w..y * w + w];
            let dst = &mut rows[r * stride..(r + 1) * stride];
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = f32::from(s) - 128.0;
            }
            let edge = dst[w - 1];
            dst[w..].fill(edge);
        }
        for bx in 0..stride / 8 {
            gather(&rows, stride, bx * 8, &mut block);
            transform(&mut block, &mut scratch, &luma.0, &mut q);
            write_block(writer, &q, &mut prev_dc, &luma.1, &luma.2);
        }
    }
}

#[inline(always)]
fn encode_colour(
    writer: &mut BitWriter,
    data: &[u8],
    w: usize,
    h: usize,
    luma: &Tables,
    chroma: &Tables,
) {
    let stride = w.div_ceil(16) * 16;
    let cstride = stride / 2;
    let mut y_rows = vec![0f32; 16 * stride];
    let mut cb_rows = vec![0f32; 8 * cstride];
    let mut cr_rows = vec![0f32; 8 * cstride];
    // Sums of R, G and B over one row pair, per column pair.
    let mut sums = vec![[0u32; 3]; cstride];
    // The same products and sums, in the same order, as libjpeg's table lookups
    // (`0.299·r + 0.587·g + (0.114·b − 128)`), computed rather than looked up so that
    // whole runs of pixels convert in vector registers.
    let luma_of = |r: u8, g: u8, b: u8| {
        0.299 * f32::from(r) + 0.587 * f32::from(g) + (0.114 * f32::from(b) - 128.0)
    };
    let mut prev_dc = [0i32; 3];
    let mut block = [0f32; 64];
    let mut scratch = [0f32; 64];
    let mut q = Quantised {
        zz: [0; 64],
        nonzero: 0,
    };
    for my in 0..h.div_ceil(16) {
        for pair in 0..8 {
            sums.fill([0; 3]);
            for half in 0..2 {
                let r = pair * 2 + half;
                let y = (my * 16 + r).min(h - 1);
                let src = &data[y * w * 3..(y * w + w) * 3];
                let dst = &mut y_rows[r * stride..(r + 1) * stride];
                // Runs of eight pixels, written out so that the compiler turns them into
                // vector operations: the luma of each, and each pair's colour summed for
                // the chroma.
                let runs = w / 8;
                for ((d, p), s) in dst
                    .chunks_exact_mut(8)
                    .zip(src.chunks_exact(24))
                    .zip(sums.chunks_exact_mut(4))
                    .take(runs)
                {
                    for i in 0..8 {
                        d[i] = luma_of(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
                    }
                    for j in 0..4 {
                        for c in 0..3 {
                            s[j][c] += u32::from(p[6 * j + c]) + u32::from(p[6 * j + 3 + c]);
                        }
                    }
                }
                // Pixel pairs past the last run.
                let done = runs * 8;
                for ((d, p), s) in dst[done..]
                    .chunks_exact_mut(2)
                    .zip(src[done * 3..].chunks_exact(6))
                    .zip(sums[done / 2..].iter_mut())
                {
                    d[0] = luma_of(p[0], p[1], p[2]);
                    d[1] = luma_of(p[3], p[4], p[5]);
                    s[0] += u32::from(p[0]) + u32::from(p[3]);
                    s[1] += u32::from(p[1]) + u32::from(p[4]);
                    s[2] += u32::from(p[2]) + u32::from(p[5]);
                }
                // An odd last pixel, then the padding, repeat the edge.
                let tail = w / 2 * 2;
                let last = &src[(w - 1) * 3..w * 3];
                dst[tail..].fill(luma_of(last[0], last[1], last[2]));
                for s in &mut sums[tail / 2..] {
                    for (s, &v) in s.iter_mut().zip(last) {
                        *s += 2 * u32::from(v);
                    }
                }
            }
            let cb = &mut cb_rows[pair * cstride..(pair + 1) * cstride];
            let cr = &mut cr_rows[pair * cstride..(pair + 1) * cstride];
            for ((s, b), r) in sums.iter().zip(cb.iter_mut()).zip(cr.iter_mut()) {
                // Through i32 (the sums are below 1021), which converts to float in vector registers.
                let [red, green, blue] = s.map(|v| v as i32 as f32 * 0.25);
                *b = -0.168_735_9 * red - 0.331_264_1 * green + 0.5 * blue;
                *r = 0.5 * red - 0.418_687_6 * green - 0.081_312_4 * blue;
            }
        }
        for mx in 0..stride / 16 {
            for (dy, dx) in [(0, 0), (0, 8), (8, 0), (8, 8)] {
                gather(&y_rows[dy * stride..], stride, mx * 16 + dx, &mut block);
                transform(&mut block, &mut scratch, &luma.0, &mut q);
                write_block(writer, &q, &mut prev_dc[0], &luma.1, &luma.2);
            }
            gather(&cb_rows, cstride, mx * 8, &mut block);
            transform(&mut block, &mut scratch, &chroma.0, &mut q);
            write_block(writer, &q, &mut prev_dc[1], &chroma.1, &chroma.2);
            gather(&cr_rows, cstride, mx * 8, &mut block);
            transform(&mut block, &mut scratch, &chroma.0, &mut q);
            write_block(writer, &q, &mut prev_dc[2], &chroma.1, &chroma.2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mse = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
    }

    /// A smooth, photo-like test pattern with some texture.
    fn pattern(w: u32, h: u32) -> image::RgbImage {
        image::RgbImage::from_fn(w, h, |x, y| {
            let (fx, fy) = (x as f32, y as f32);
            image::Rgb([
                (128.0 + 100.0 * (fx / 37.0).sin() * (fy / 23.0).cos()) as u8,
                (128.0 + 90.0 * (fx / 11.0 + fy / 53.0).sin()) as u8,
                (128.0 + 60.0 * (fx / 29.0 - fy / 17.0).cos() + ((x * 7 + y * 3) % 16) as f32)
                    as u8,
            ])
        })
    }

    #[test]
    fn colour_images_of_any_size_decode_close_to_the_input() {
        for (w, h) in [(1, 1), (7, 5), (16, 16), (17, 33), (64, 48), (203, 101)] {
            let img = pattern(w, h);
            let jpeg = encode(Pixels::Rgb(img.as_raw()), w, h, 92).unwrap();
            let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
            assert_eq!(back.dimensions(), (w, h));
            let p = psnr(img.as_raw(), back.as_raw());
            assert!(p > 34.0, "{w}x{h}: {p:.1} dB");
        }
    }

    #[test]
    fn grey_images_stay_grey_and_close() {
        for (w, h) in [(1, 1), (9, 3), (64, 64), (130, 71)] {
            let grey = image::imageops::grayscale(&pattern(w, h));
            let jpeg = encode(Pixels::Grey(grey.as_raw()), w, h, 92).unwrap();
            let back = image::load_from_memory(&jpeg).unwrap();
            assert_eq!(back.color(), image::ColorType::L8);
            let p = psnr(grey.as_raw(), back.to_luma8().as_raw());
            assert!(p > 38.0, "{w}x{h}: {p:.1} dB");
        }
    }

    #[test]
    fn quality_trades_size_for_fidelity() {
        let img = pattern(128, 96);
        let size_and_psnr = |q| {
            let jpeg = encode(Pixels::Rgb(img.as_raw()), 128, 96, q).unwrap();
            let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
            (jpeg.len(), psnr(img.as_raw(), back.as_raw()))
        };
        let (low, high) = (size_and_psnr(50), size_and_psnr(95));
        assert!(low.0 < high.0 && low.1 < high.1, "{low:?} {high:?}");
    }

    #[test]
    fn extreme_values_and_stuffing_survive() {
        // Noise makes large coefficients and many 0xFF bytes in the entropy-coded data.
        let mut rng = 12345u32;
        let img = image::RgbImage::from_fn(40, 24, |_, _| {
            rng = rng.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let [a, b, c, _] = rng.to_le_bytes();
            image::Rgb([a, b, c])
        });
        let jpeg = encode(Pixels::Rgb(img.as_raw()), 40, 24, 100).unwrap();
        let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (40, 24));
    }

    #[test]
    fn refuses_what_jpeg_cannot_hold() {
        assert!(encode(Pixels::Rgb(&[]), 0, 0, 92).is_err());
        assert!(encode(Pixels::Grey(&[0; 4]), 70_000, 1, 92).is_err());
        assert!(encode(Pixels::Rgb(&[0; 5]), 2, 1, 92).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any size, any quality and any content: a stock decoder reads the stream back at
        /// the same size and colour type, so no table, padding or stuffing path is wrong.
        #[test]
        fn any_image_at_any_quality_decodes(
            w in 1u32..70,
            h in 1u32..70,
            quality in 1u8..=100,
            grey in proptest::bool::ANY,
            seed in proptest::num::u32::ANY,
        ) {
            let mut rng = seed | 1;
            let channels = if grey { 1 } else { 3 };
            let data: Vec<u8> = (0..w * h * channels)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 17;
                    rng ^= rng << 5;
                    rng as u8
                })
                .collect();
            let pixels = if grey { Pixels::Grey(&data) } else { Pixels::Rgb(&data) };
            let jpeg = encode(pixels, w, h, quality).unwrap();
            let back = image::load_from_memory(&jpeg).unwrap();
            proptest::prop_assert_eq!((back.width(), back.height()), (w, h));
            let expected = if grey { image::ColorType::L8 } else { image::ColorType::Rgb8 };
            proptest::prop_assert_eq!(back.color(), expected);
        }
    }

    #[test]
    fn the_huffman_tables_are_the_standards() {
        let dc = Huffman::new(&DC_LUMA_BITS, &DC_VALUES);
        // Annex K, table K.3: category 0 is `00`, category 11 is `111111110`.
        assert_eq!((dc.code[0], dc.len[0]), (0b00, 2));
        assert_eq!((dc.code[11], dc.len[11]), (0b1_1111_1110, 9));
        let ac = Huffman::new(&AC_LUMA_BITS, &AC_LUMA_VALUES);
        // Table K.5: EOB `1010`, ZRL `11111111001`.
        assert_eq!((ac.code[0], ac.len[0]), (0b1010, 4));
        assert_eq!((ac.code[0xF0], ac.len[0xF0]), (0b111_1111_1001, 11));
    }
}
