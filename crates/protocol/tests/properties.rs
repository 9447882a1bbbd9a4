//! Property tests: the form codec round-trips any bytes, the parsers never panic on any
//! input, and `check_dimensions` agrees with the spec's table written out plainly.

// Helpers outside `#[test]` functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, UNIX_EPOCH};

use baidu_imageprocess_protocol::sign::{format_timestamp, parse_authorization, parse_timestamp};
use baidu_imageprocess_protocol::{
    ErrorCode, ImageFormat, LimitViolation, Operation, check_dimensions, decode_base64,
    decode_image_form, decode_image_reply, decode_token_reply, encode_image_form, parse_pairs,
    sniff, validate,
};
use proptest::prelude::*;

fn any_op() -> impl Strategy<Value = Operation> {
    prop::sample::select(Operation::ALL.to_vec())
}

/// Bytes that start like an image of some format (so sniffing goes past the magic).
fn image_like() -> impl Strategy<Value = Vec<u8>> {
    let magic = prop::sample::select(vec![
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec(),
        vec![0xFF, 0xD8, 0xFF],
        vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16],
        vec![0xFF, 0xD8, 0xFF, 0xC0],
        b"BM".to_vec(),
        b"BM\0\0\0\0\0\0\0\0\0\0\0\0\x0c\0\0\0".to_vec(),
        b"GIF89a".to_vec(),
        b"RIFF\0\0\0\0WEBP".to_vec(),
        b"\0\0\0\x18ftypheic".to_vec(),
    ]);
    (magic, prop::collection::vec(any::<u8>(), 0..256)).prop_map(|(mut m, tail)| {
        m.extend(tail);
        m
    })
}

/// Text shaped like a reply, with arbitrary values in its fields.
fn reply_like() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        "[0-9]{0,25}".prop_map(|s| format!("\"{s}\"")),
        "[A-Za-z0-9+/=\\\\ \\n\"]{0,40}".prop_map(|s| format!("\"{s}\"")),
        Just("null".to_owned()),
        Just("{}".to_owned()),
        Just("[1,2]".to_owned()),
        Just("true".to_owned()),
    ];
    let key = prop::sample::select(vec![
        "log_id",
        "image",
        "error_code",
        "error_msg",
        "access_token",
        "expires_in",
        "scope",
        "error",
        "error_description",
    ]);
    (
        prop::collection::vec((key, value), 0..6),
        0usize..200,
        any::<bool>(),
    )
        .prop_map(|(fields, cut, truncate)| {
            let body = fields
                .iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect::<Vec<_>>()
                .join(",");
            let text = format!("{{{body}}}");
            if truncate {
                text.chars().take(cut).collect()
            } else {
                text
            }
        })
}

/// The spec's table, as a reader would check it by hand.
fn reference_ok(op: Operation, w: u32, h: u32) -> bool {
    let (w, h) = (u64::from(w), u64::from(h));
    let (short, long) = (w.min(h), w.max(h));
    let aspect_ok = long <= 3 * short;
    let restore_ok = short >= 10 && long <= 5000 && long <= 4 * short;
    match op {
        Operation::ImageQualityEnhance => short >= 1 && w * h <= 800 * 800,
        Operation::Dehaze => short >= 200 && long <= 4096 && aspect_ok,
        Operation::ContrastEnhance => short >= 64 && long <= 4096 && aspect_ok,
        Operation::Colourize => short >= 64 && long <= 800 && aspect_ok,
        Operation::StretchRestore
        | Operation::ImageDefinitionEnhance
        | Operation::ColorEnhance
        | Operation::StyleTrans
        | Operation::SelfieAnime
        | Operation::Inpainting
        | Operation::SkySeg => restore_ok,
        Operation::RemoveMoire => short >= 15 && long <= 4096,
        Operation::DocRepair | Operation::CustomizeStylization => short >= 50 && long <= 4096,
        Operation::Denoise => short >= 50 && long <= 1999,
    }
}

/// Sides at, just under and just over every bound of the table (and its products).
const EDGES: [u32; 47] = [
    0,
    1,
    2,
    9,
    10,
    11,
    14,
    15,
    16,
    49,
    50,
    51,
    1998,
    1999,
    2000,
    4999,
    5000,
    5001,
    1250,
    63,
    64,
    65,
    191,
    192,
    193,
    199,
    200,
    201,
    266,
    267,
    268,
    599,
    600,
    601,
    799,
    800,
    801,
    1365,
    1366,
    1367,
    1600,
    1601,
    4095,
    4096,
    4097,
    12_288,
    u32::MAX,
];

/// Dimensions around every bound of the table, plus anything at all.
fn dimension() -> impl Strategy<Value = u32> {
    prop_oneof![
        prop::sample::select(EDGES.to_vec()),
        0u32..5000,
        any::<u32>(),
    ]
}

#[test]
fn check_dimensions_agrees_with_the_table_on_every_edge() {
    for op in Operation::ALL {
        for w in EDGES {
            for h in EDGES {
                let got = check_dimensions(op, w, h);
                assert_eq!(got.is_ok(), reference_ok(op, w, h), "{op} {w}x{h}: {got:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn form_round_trips_any_bytes(bytes in prop::collection::vec(any::<u8>(), 1..4096)) {
        let body = encode_image_form(&bytes, &[]);
        // Only form-safe characters on the wire: no raw +, / or = in the value.
        prop_assert!(body[6..].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'%'));
        prop_assert_eq!(decode_image_form(&body).unwrap(), bytes);
    }

    #[test]
    fn form_round_trips_with_extra_fields(
        bytes in prop::collection::vec(any::<u8>(), 1..512),
        name in "[a-z_]{1,8}",
        value in ".{0,20}",
    ) {
        prop_assume!(name != "image");
        let body = encode_image_form(&bytes, &[(&name, &value)]);
        prop_assert_eq!(decode_image_form(&body).unwrap(), bytes);
        let (n, v) = parse_pairs(&body).nth(1).unwrap();
        prop_assert_eq!(n, name);
        prop_assert_eq!(v, value.into_bytes());
    }

    #[test]
    fn empty_image_is_216200(extra in "[a-z]{0,8}") {
        let body = encode_image_form(&[], &[]);
        prop_assert_eq!(decode_image_form(&body), Err(LimitViolation::Empty));
        let other = format!("x={extra}");
        prop_assert_eq!(decode_image_form(other.as_bytes()), Err(LimitViolation::Empty));
    }

    #[test]
    fn form_values_unescape_like_percent_encoding(value in "[A-Za-z0-9%+/= .~*-]{0,64}") {
        let body = format!("k={value}");
        let (_, decoded) = parse_pairs(body.as_bytes()).next().unwrap();
        let expected: Vec<u8> = percent_encoding::percent_decode(value.as_bytes()).collect();
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn decode_image_form_never_panics(body in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(v) = decode_image_form(&body) {
            let code = v.code().get();
            prop_assert!((216_200..=216_202).contains(&code));
        }
    }

    #[test]
    fn decode_image_form_never_panics_on_form_text(body in "(image=)?[A-Za-z0-9+/=%&_. -]{0,200}") {
        let _ = decode_image_form(body.as_bytes());
    }

    #[test]
    fn sniff_and_validate_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), op in any_op()) {
        let _ = sniff(&bytes);
        let _ = validate(op, &bytes);
    }

    #[test]
    fn sniff_and_validate_never_panic_past_the_magic(bytes in image_like(), op in any_op()) {
        match validate(op, &bytes) {
            Ok(info) => prop_assert!(info.width > 0 && info.height > 0),
            Err(v) => prop_assert!((216_200..=216_202).contains(&v.code().get())),
        }
    }

    #[test]
    fn sniff_reads_the_dimensions_headers_claim(w in 1u32..100_000, h in 1u32..100_000, flip in any::<bool>()) {
        let png = sniff(&support::png_header(w, h)).unwrap();
        prop_assert_eq!((png.format, png.width, png.height), (ImageFormat::Png, w, h));
        let bh = if flip { -(h as i32) } else { h as i32 };
        let bmp = sniff(&support::bmp_header(w as i32, bh)).unwrap();
        prop_assert_eq!((bmp.format, bmp.width, bmp.height), (ImageFormat::Bmp, w, h));
        let (jw, jh) = ((w % 65_535 + 1) as u16, (h % 65_535 + 1) as u16);
        let jpeg = sniff(&support::jpeg_header(jw, jh)).unwrap();
        prop_assert_eq!((jpeg.format, jpeg.width, jpeg.height), (ImageFormat::Jpeg, u32::from(jw), u32::from(jh)));
    }

    #[test]
    fn check_dimensions_agrees_with_the_table(op in any_op(), w in dimension(), h in dimension()) {
        let got = check_dimensions(op, w, h);
        prop_assert_eq!(got.is_ok(), reference_ok(op, w, h), "{} {}x{}: {:?}", op, w, h, got);
        if let Err(v) = got {
            prop_assert_eq!(v.code(), ErrorCode::IMAGE_SIZE_ERROR);
            // The message names the operation so a batch report is readable.
            prop_assert!(v.to_string().contains(op.name()), "{}", v);
        }
    }

    #[test]
    fn decode_image_reply_never_panics(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_image_reply(status, &body);
    }

    #[test]
    fn decode_image_reply_never_panics_on_reply_shapes(status in prop::sample::select(vec![200u16, 429, 500, 502]), body in reply_like()) {
        if let Err(e) = decode_image_reply(status, body.as_bytes()) {
            // Errors display on one line without the whole body.
            let text = e.to_string();
            prop_assert!(!text.contains('\n'));
        }
    }

    #[test]
    fn decode_token_reply_never_panics(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_token_reply(status, &body);
    }

    #[test]
    fn decode_token_reply_never_panics_on_reply_shapes(status in prop::sample::select(vec![200u16, 400, 401, 500]), body in reply_like()) {
        if let Err(e) = decode_token_reply(status, body.as_bytes()) {
            // A malformed token reply never quotes the body (it may hold a token).
            let text = format!("{e} {e:?}");
            prop_assert!(!text.contains("access_token"), "{}", text);
        }
    }

    #[test]
    fn base64_decoding_never_panics(text in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_base64(&text);
    }

    #[test]
    fn parse_authorization_never_panics(text in ".{0,200}") {
        let _ = parse_authorization(&text);
    }

    #[test]
    fn parse_authorization_never_panics_on_near_misses(parts in prop::collection::vec("[a-z0-9;:-]{0,12}", 0..8)) {
        let text = format!("bce-auth-v1/{}", parts.join("/"));
        if let Some(p) = parse_authorization(&text) {
            prop_assert_eq!(parts.len(), 5);
            prop_assert_eq!(p.access_key, parts[0].clone());
        }
    }

    #[test]
    fn parse_timestamp_never_panics(text in ".{0,30}") {
        let _ = parse_timestamp(&text);
    }

    #[test]
    fn parse_timestamp_never_panics_on_digits(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z") {
        let _ = parse_timestamp(&text);
    }

    #[test]
    fn timestamps_round_trip(secs in 0u64..253_402_300_800) {
        let t = UNIX_EPOCH + Duration::from_secs(secs);
        let text = format_timestamp(t);
        prop_assert_eq!(text.len(), 20);
        prop_assert_eq!(parse_timestamp(&text), Some(t));
    }
}
