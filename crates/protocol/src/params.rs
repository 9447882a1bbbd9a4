//! The operations' parameters as types: a value that exists is a value the API accepts.
//!
//! Each constructor checks its range and says which values are allowed when it refuses;
//! the server-side decoder ([`crate::decode_request`]) parses wire text with the same
//! types, so both ends agree on what is valid.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::rect::Rect;
use crate::violation::{LimitViolation, URL_ALLOWED};

/// Shortens a refused value for an error message (a refused value may be long: a URL, a
/// style image's base64).
pub(crate) fn shown(value: &str) -> String {
    const MAX: usize = 64;
    if value.len() <= MAX {
        return value.to_owned();
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &value[..end], value.len())
}

/// The nine styles of `style_trans` (its `option` parameter).
/// Not `#[non_exhaustive]`, on purpose: the set is Baidu's, and a new member must be a
/// compile error in every `match` of the workspace (and a new major version), never a
/// silent fallback arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Style {
    /// `cartoon`: comic-book outlines and flat colour.
    Cartoon,
    /// `pencil`: graphite sketch.
    Pencil,
    /// `color_pencil`: coloured-pencil sketch.
    ColorPencil,
    /// `warm`: warm, soft tones.
    Warm,
    /// `wave`: Hokusai's *Great Wave*.
    Wave,
    /// `lavender`: lavender tones.
    Lavender,
    /// `mononoke`: the look of *Princess Mononoke*.
    Mononoke,
    /// `scream`: Munch's *The Scream*.
    Scream,
    /// `gothic`: dark gothic style.
    Gothic,
}

impl Style {
    /// All nine, in Baidu's order.
    pub const ALL: [Style; 9] = [
        Style::Cartoon,
        Style::Pencil,
        Style::ColorPencil,
        Style::Warm,
        Style::Wave,
        Style::Lavender,
        Style::Mononoke,
        Style::Scream,
        Style::Gothic,
    ];

    /// The wire values, in Baidu's order.
    pub const NAMES: [&'static str; 9] = [
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

    /// The allowed values, as one line for messages and docs.
    pub const ALLOWED: &'static str =
        "cartoon, pencil, color_pencil, warm, wave, lavender, mononoke, scream, gothic";

    /// The wire value, e.g. `color_pencil`.
    pub const fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The style whose wire value is exactly `s`, as the service reads it (it is
    /// case-sensitive and knows no aliases).
    pub fn from_wire(s: &str) -> Result<Self, LimitViolation> {
        Self::ALL
            .into_iter()
            .find(|style| style.name() == s)
            .ok_or_else(|| Self::refused(s))
    }

    fn refused(s: &str) -> LimitViolation {
        LimitViolation::InvalidParameter {
            name: "option",
            got: shown(s),
            allowed: Self::ALLOWED,
        }
    }
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Style {
    type Err = LimitViolation;

    /// Accepts what a person types: the wire value in any case, with `-` or `_`, and
    /// `colour` or `color` (`color_pencil`, `colour-pencil`, …). The server side reads
    /// the wire exactly ([`Style::from_wire`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s
            .trim()
            .to_ascii_lowercase()
            .replace('-', "_")
            .replace("colour", "color");
        Self::from_wire(&wanted).map_err(|_| Self::refused(s))
    }
}

/// Checks that `value` lies in `min..=max`, naming the parameter when it does not.
fn in_range(
    name: &'static str,
    value: i64,
    min: i64,
    max: i64,
    allowed: &'static str,
) -> Result<(), LimitViolation> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(LimitViolation::InvalidParameter {
            name,
            got: value.to_string(),
            allowed,
        })
    }
}

/// Parses a decimal integer parameter from wire text.
fn parse_int(name: &'static str, text: &str, allowed: &'static str) -> Result<i64, LimitViolation> {
    text.trim()
        .parse()
        .map_err(|_| LimitViolation::InvalidParameter {
            name,
            got: shown(text),
            allowed,
        })
}

macro_rules! bounded_int {
    ($(#[$doc:meta])* $name:ident($inner:ty), param = $param:literal, $min:literal..=$max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($inner);

        // The bounds are written as Baidu's documentation states them.
        #[allow(clippy::unreadable_literal)]
        impl $name {
            /// The smallest allowed value.
            pub const MIN: $inner = $min;
            /// The largest allowed value.
            pub const MAX: $inner = $max;
            /// The allowed values, for messages and docs.
            pub const ALLOWED: &'static str = concat!("an integer from ", $min, " to ", $max);

            /// The value, if it is in range.
            pub fn new(value: impl Into<i64>) -> Result<Self, LimitViolation> {
                let value = value.into();
                in_range($param, value, $min, $max, Self::ALLOWED)?;
                // In range, so it fits.
                Ok(Self(<$inner>::try_from(value).unwrap_or(Self::MIN)))
            }

            /// The number.
            pub const fn get(self) -> $inner {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = LimitViolation;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(parse_int($param, s, Self::ALLOWED)?)
            }
        }
    };
}

bounded_int!(
    /// The mask overlay of `selfie_anime` (`mask_id`, 1–8; sent with `type=anime_mask`).
    AnimeMask(u8), param = "mask_id", 1..=8
);

bounded_int!(
    /// The strength of `denoise` (its `option`, 0–200; 0 leaves the image as it is).
    Strength(u8), param = "option", 0..=200
);

bounded_int!(
    /// A preset of `customize_stylization` (`style_id`, 0–29).
    StyleId(u8), param = "style_id", 0..=29
);

bounded_int!(
    /// A page of the PDF sent to `remove_moire` (`pdf_file_num`, from 1).
    PdfPage(u32), param = "pdf_file_num", 1..=4294967295
);

/// `customize_stylization`'s style: a preset or a style image.
/// Not `#[non_exhaustive]`, on purpose: the set is Baidu's, and a new member must be a
/// compile error in every `match` of the workspace (and a new major version), never a
/// silent fallback arm.
#[derive(Clone, PartialEq, Eq)]
pub enum CustomStyle<'a> {
    /// A preset, 0–29 (`style_id`).
    Preset(StyleId),
    /// A style image whose look is copied (`style`; JPEG, PNG or BMP, at most 4 MB as
    /// base64, sides 50–4096 px).
    Image(Cow<'a, [u8]>),
}

impl fmt::Debug for CustomStyle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Preset(id) => f.debug_tuple("Preset").field(id).finish(),
            Self::Image(bytes) => write!(f, "Image(<{} bytes>)", bytes.len()),
        }
    }
}

impl CustomStyle<'_> {
    /// The same style, owning its data.
    pub fn into_owned(self) -> CustomStyle<'static> {
        match self {
            Self::Preset(id) => CustomStyle::Preset(id),
            Self::Image(bytes) => CustomStyle::Image(Cow::Owned(bytes.into_owned())),
        }
    }
}

/// Checks `rects` against an image of `width × height`: at least one, each non-empty
/// and inside the image.
pub fn check_rects(rects: &[Rect], width: u32, height: u32) -> Result<(), LimitViolation> {
    if rects.is_empty() {
        return Err(LimitViolation::InvalidParameter {
            name: "rectangle",
            got: "an empty list".into(),
            allowed: RECT_ALLOWED,
        });
    }
    match rects.iter().position(|r| !r.fits_in(width, height)) {
        Some(index) => Err(LimitViolation::RectOutsideImage {
            index,
            rect: rects[index],
            width,
            height,
        }),
        None => Ok(()),
    }
}

/// What `rectangle` allows, for messages and docs.
pub const RECT_ALLOWED: &str =
    "one or more {left, top, width, height} rectangles of at least 1×1 inside the image";

/// The longest `url` the API accepts, in bytes.
pub const MAX_URL_LEN: usize = 1024;

/// An image's address for the `url` input: `http` or `https`, at most 1024 bytes, no
/// whitespace or control characters. The service downloads it (its own limits apply;
/// failures come back as 282111–282114).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ImageUrl(String);

impl ImageUrl {
    /// What `url` allows, for messages and docs.
    pub const ALLOWED: &'static str = URL_ALLOWED;

    /// Checks `url`.
    pub fn new(url: impl Into<String>) -> Result<Self, LimitViolation> {
        let url = url.into();
        let invalid = |url: &str| LimitViolation::InvalidUrl { got: shown(url) };
        let lower = url.get(..8).unwrap_or(&url).to_ascii_lowercase();
        let rest = if lower.starts_with("https://") {
            &url[8..]
        } else if lower.starts_with("http://") {
            &url[7..]
        } else {
            return Err(invalid(&url));
        };
        let host_ok = rest
            .split(['/', '?', '#'])
            .next()
            .is_some_and(|host| !host.is_empty());
        let clean = url.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if url.len() > MAX_URL_LEN || !host_ok || !clean {
            return Err(invalid(&url));
        }
        Ok(Self(url))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Query strings of image URLs often carry signatures: shown in full only on request.
impl fmt::Debug for ImageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = self.0.find('?').unwrap_or(self.0.len());
        let query = if cut < self.0.len() {
            "?<redacted>"
        } else {
            ""
        };
        write!(f, "ImageUrl({}{query})", &self.0[..cut])
    }
}

impl fmt::Display for ImageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ImageUrl {
    type Err = LimitViolation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_round_trip_and_refusals_name_the_values() {
        for style in Style::ALL {
            assert_eq!(style.name().parse(), Ok(style));
            assert!(Style::ALLOWED.contains(style.name()));
        }
        let err = "sketch".parse::<Style>().unwrap_err();
        assert!(err.to_string().contains("option") && err.to_string().contains("gothic"));
        // People type aliases; the service reads the wire value exactly.
        for text in [
            "color_pencil",
            "colour_pencil",
            "color-pencil",
            "Colour-Pencil",
        ] {
            assert_eq!(text.parse(), Ok(Style::ColorPencil), "{text}");
        }
        assert_eq!(Style::from_wire("color_pencil"), Ok(Style::ColorPencil));
        assert!(Style::from_wire("colour_pencil").is_err());
        assert!(Style::from_wire("Cartoon").is_err());
    }

    #[test]
    fn bounds_are_inclusive() {
        assert!(AnimeMask::new(0).is_err());
        assert_eq!(AnimeMask::new(1).map(AnimeMask::get), Ok(1));
        assert_eq!(AnimeMask::new(8).map(AnimeMask::get), Ok(8));
        assert!(AnimeMask::new(9).is_err());
        assert_eq!(Strength::new(0).map(Strength::get), Ok(0));
        assert_eq!(Strength::new(200).map(Strength::get), Ok(200));
        assert!(Strength::new(201).is_err());
        assert!(Strength::new(-1).is_err());
        assert!(StyleId::new(30).is_err());
        assert_eq!("29".parse::<StyleId>().map(StyleId::get), Ok(29));
        let err = "x".parse::<StyleId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid `style_id`: \"x\"; allowed: an integer from 0 to 29"
        );
    }

    #[test]
    fn urls() {
        assert!(ImageUrl::new("https://example.com/a.jpg").is_ok());
        assert!(ImageUrl::new("HTTP://example.com").is_ok());
        for bad in [
            "ftp://example.com/a.jpg",
            "https://",
            "https:///a.jpg",
            "example.com/a.jpg",
            "https://exa mple.com/",
            "",
        ] {
            assert!(ImageUrl::new(bad).is_err(), "{bad}");
        }
        let at = format!("https://e.com/{}", "a".repeat(MAX_URL_LEN - 14));
        assert_eq!(at.len(), MAX_URL_LEN);
        assert!(ImageUrl::new(at.clone()).is_ok());
        assert!(ImageUrl::new(at + "a").is_err());
        let signed = ImageUrl::new("https://e.com/a.jpg?sig=SECRET").unwrap();
        assert!(!format!("{signed:?}").contains("SECRET"));
    }

    #[test]
    fn rects_inside_the_image() {
        assert!(check_rects(&[Rect::new(0, 0, 10, 10)], 10, 10).is_ok());
        assert!(check_rects(&[Rect::new(1, 0, 10, 10)], 10, 10).is_err());
        assert!(check_rects(&[Rect::new(0, 0, 0, 10)], 10, 10).is_err());
        assert!(check_rects(&[], 10, 10).is_err());
        assert!(check_rects(&[Rect::new(u32::MAX, 0, u32::MAX, 1)], 10, 10).is_err());
        let err = check_rects(&[Rect::new(0, 0, 1, 1), Rect::new(5, 5, 6, 1)], 10, 10).unwrap_err();
        assert!(matches!(
            err,
            LimitViolation::RectOutsideImage { index: 1, .. }
        ));
    }
}
