//! Every operation's limits come from its table row and the client checks all of them,
//! so an image the emulator would refuse is refused before it is sent (issue 27 item 1).

use std::borrow::Cow;

use baidu_imageprocess_protocol::{
    CustomStyle, Input, LimitViolation, Limits, Operation, Params, Rect, Request, Strength, Style,
    StyleId, optable,
};
// A PNG header announcing `w × h`: the limits are checked from the header.
use baidu_imageprocess_test_support::png_header;

/// Sides inside every bound of `limits`.
fn inside(limits: &Limits) -> (u32, u32) {
    let side = limits.min_side.max(100);
    (side, side)
}

/// Sides just outside `limits`: past the aspect ratio when it is bounded, else past the
/// longest side, else past the pixel count.
fn outside(limits: &Limits) -> (u32, u32) {
    if let Some(aspect) = limits.max_aspect {
        let long = limits.max_side;
        let short = long / (aspect + 1);
        assert!(short >= limits.min_side, "{limits:?}");
        return (long, short);
    }
    if limits.max_side < u32::MAX {
        return (limits.max_side + 1, limits.min_side.max(100));
    }
    let max = limits.max_pixels.expect("the row bounds the image");
    let side = u32::try_from(max.isqrt() + 1).unwrap();
    (side, side)
}

/// Valid parameters for `op`.
fn params(op: Operation) -> Params<'static> {
    match op {
        Operation::StyleTrans => Params::StyleTrans(Style::Cartoon),
        Operation::Denoise => Params::Denoise(Strength::new(50).unwrap()),
        Operation::Inpainting => Params::Inpainting(Cow::Owned(vec![Rect::new(0, 0, 10, 10)])),
        Operation::CustomizeStylization => {
            Params::CustomizeStylization(CustomStyle::Preset(StyleId::new(1).unwrap()))
        }
        other => Params::defaults(other).unwrap(),
    }
}

#[test]
fn the_client_checks_every_limit_of_every_row() {
    for op in Operation::ALL {
        let limits = optable::spec(op).limits;
        let (w, h) = inside(&limits);
        let image = png_header(w, h);
        let request = Request::new(Input::image(&image[..]), params(op));
        assert!(
            request.validate().is_ok(),
            "{op} {w}×{h}: {:?}",
            request.validate()
        );

        let (w, h) = outside(&limits);
        let image = png_header(w, h);
        let request = Request::new(Input::image(&image[..]), params(op));
        match request.validate() {
            Err(
                LimitViolation::AspectTooWide { .. }
                | LimitViolation::SideTooLong { .. }
                | LimitViolation::TooManyPixels { .. },
            ) => {}
            other => panic!("{op} {w}×{h} passed the client's check: {other:?}"),
        }
    }
}
