//! Property tests for every parameter type: each accepts exactly the values its reference
//! (the API's documentation, written out by hand) allows, and every valid request survives
//! encoding and server-side decoding unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::borrow::Cow;

use baidu_imageprocess_protocol::{
    AnimeMask, CustomStyle, ErrorCode, ImageUrl, Input, LimitViolation, MAX_URL_LEN, Operation,
    Params, PdfPage, Rect, Request, Strength, Style, StyleId, check_rects, decode_request,
};
use proptest::prelude::*;

const STYLES: [&str; 9] = [
    "cartoon",
    "pencil",
    "color_pencil",
    "warm",
    "wave",
    "lavender",
    "mononoke",
    "scream",
    "gothic",
];

fn style_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(STYLES.to_vec()).prop_map(str::to_owned),
        prop::sample::select(STYLES.to_vec()).prop_map(str::to_uppercase),
        "[a-z_]{0,14}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn style_accepts_exactly_the_nine(text in style_text()) {
        // The wire reads the nine exactly; a person's text may differ in case, `-` for
        // `_` and `colour` for `color`.
        let wire = Style::from_wire(&text);
        prop_assert_eq!(wire.is_ok(), STYLES.contains(&text.as_str()));
        match wire {
            Ok(style) => prop_assert_eq!(style.name(), text.as_str()),
            Err(e) => prop_assert_eq!(e.code(), ErrorCode::INVALID_PARAM),
        }
        let spelled = text.trim().to_ascii_lowercase().replace('-', "_").replace("colour", "color");
        let parsed = text.parse::<Style>();
        prop_assert_eq!(parsed.is_ok(), STYLES.contains(&spelled.as_str()));
        match parsed {
            Ok(style) => prop_assert_eq!(style.name(), spelled.as_str()),
            Err(e) => prop_assert_eq!(e.code(), ErrorCode::INVALID_PARAM),
        }
    }

    #[test]
    fn integers_accept_exactly_their_ranges(n in prop_oneof![-3i64..300, 4_294_967_290i64..4_294_967_300, any::<i64>()]) {
        prop_assert_eq!(AnimeMask::new(n).is_ok(), (1..=8).contains(&n));
        prop_assert_eq!(Strength::new(n).is_ok(), (0..=200).contains(&n));
        prop_assert_eq!(StyleId::new(n).is_ok(), (0..=29).contains(&n));
        prop_assert_eq!(PdfPage::new(n).is_ok(), (1..=i64::from(u32::MAX)).contains(&n));
        if let Ok(v) = Strength::new(n) {
            prop_assert_eq!(v.to_string().parse::<Strength>(), Ok(v));
            prop_assert_eq!(i64::from(v.get()), n);
        }
        if let Err(e) = AnimeMask::new(n) {
            prop_assert!(e.to_string().contains("mask_id") && e.to_string().contains("1 to 8"));
        }
    }

    #[test]
    fn integer_text_never_panics(text in any::<String>()) {
        let _ = text.parse::<AnimeMask>();
        let _ = text.parse::<Strength>();
        let _ = text.parse::<StyleId>();
        let _ = text.parse::<PdfPage>();
    }

    #[test]
    fn rects_fit_exactly_when_inside(
        left in prop_oneof![0u32..40, any::<u32>()],
        top in prop_oneof![0u32..40, any::<u32>()],
        width in prop_oneof![0u32..40, any::<u32>()],
        height in prop_oneof![0u32..40, any::<u32>()],
        image_w in 1u32..40,
        image_h in 1u32..40,
    ) {
        let rect = Rect::new(left, top, width, height);
        let inside = width > 0
            && height > 0
            && u64::from(left) + u64::from(width) <= u64::from(image_w)
            && u64::from(top) + u64::from(height) <= u64::from(image_h);
        prop_assert_eq!(rect.fits_in(image_w, image_h), inside);
        let checked = check_rects(&[Rect::new(0, 0, 1, 1), rect], image_w, image_h);
        prop_assert_eq!(checked.is_ok(), inside);
        if let Err(e) = checked {
            prop_assert!(matches!(e, LimitViolation::RectOutsideImage { index: 1, .. }), "{e:?}");
        }
    }

    #[test]
    fn urls_accept_exactly_http_and_https(
        scheme in prop::sample::select(vec!["http://", "https://", "HTTPS://", "ftp://", "", "https:/"]),
        host in "[a-z0-9.-]{0,12}",
        path in prop_oneof!["(/[A-Za-z0-9._~%?&=+-]{0,20}){0,3}", any::<String>()],
        pad in prop_oneof![Just(0usize), 1000usize..1100],
    ) {
        let url = format!("{scheme}{host}{path}{}", "a".repeat(pad));
        // The host is what lies between the scheme and the first `/`, `?` or `#`.
        let lower = url.to_ascii_lowercase();
        let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
        let reference = rest.is_some_and(|rest| !rest.split(['/', '?', '#']).next().unwrap_or("").is_empty())
            && url.len() <= MAX_URL_LEN
            && url.chars().all(|c| !c.is_whitespace() && !c.is_control());
        let parsed = ImageUrl::new(url.clone());
        prop_assert_eq!(parsed.is_ok(), reference, "{:?}", url);
        if let Ok(parsed) = parsed {
            // Survives the form and the JSON body.
            for params in [Params::Dehaze, Params::Inpainting(Cow::Owned(vec![Rect::new(0, 0, 1, 1)]))] {
                let request = Request::new(Input::Url(parsed.clone()), params);
                let decoded = decode_request(request.operation(), &request.encode().bytes).unwrap();
                prop_assert_eq!(decoded, request);
            }
        } else {
            prop_assert_eq!(parsed.unwrap_err().code(), ErrorCode::URL_FORMAT_ILLEGAL);
        }
    }

    #[test]
    fn style_images_are_checked_like_images(w in 1u32..5000, h in 1u32..5000) {
        let style = support::png_header(w, h);
        let image = support::png_header(300, 300);
        let request = Request::new(
            Input::image(&image[..]),
            Params::CustomizeStylization(CustomStyle::Image(Cow::Borrowed(&style))),
        );
        let reference = w.min(h) >= 50 && w.max(h) <= 4096;
        prop_assert_eq!(request.validate().is_ok(), reference);
    }

    #[test]
    fn every_valid_request_survives_encoding_and_decoding(
        op in prop::sample::select(Operation::ALL.to_vec()),
        w in 60u32..1200,
        h in 60u32..1200,
        extra in prop::collection::vec(any::<u8>(), 0..300),
        choice in any::<u8>(),
        rect in (0u32..60, 0u32..60, 1u32..60, 1u32..60),
        use_url in any::<bool>(),
    ) {
        let mut image = support::png_header(w, h);
        image.extend(extra);
        let style = support::png_header(64, 80);
        let rects = [Rect::new(rect.0, rect.1, rect.2, rect.3)];
        let params = match op {
            Operation::StyleTrans => Params::StyleTrans(Style::ALL[usize::from(choice) % 9]),
            Operation::SelfieAnime => Params::SelfieAnime { mask: AnimeMask::new(choice % 10).ok() },
            Operation::Inpainting => Params::Inpainting(Cow::Borrowed(&rects)),
            Operation::Denoise => Params::Denoise(Strength::new(choice % 201).unwrap()),
            Operation::CustomizeStylization if choice % 2 == 0 => {
                Params::CustomizeStylization(CustomStyle::Image(Cow::Borrowed(&style)))
            }
            Operation::CustomizeStylization => {
                Params::CustomizeStylization(CustomStyle::Preset(StyleId::new(choice % 30).unwrap()))
            }
            _ => Params::defaults(op).unwrap(),
        };
        let input = if use_url {
            Input::url(format!("https://example.com/{choice}.jpg?a=b&c=+%")).unwrap()
        } else {
            Input::image(&image[..])
        };
        let request = Request::new(input, params);
        if request.validate().is_ok() {
            let decoded = decode_request(op, &request.encode().bytes);
            prop_assert_eq!(decoded, Ok(request));
        }
    }
}
