//! The server side of [`crate::Request::encode`]: from the body of any operation to the
//! typed request, or the error the service answers (216100 invalid parameter, 216101
//! missing parameter, 216200/216201/216202 image errors, 282111 bad `url`).

use std::borrow::Cow;

use serde::Deserialize;

use crate::operation::Operation;
use crate::optable::{BodyKind, InputKind, OperationSpec, ParamKind, Params, WireValue, spec};
use crate::params::{ImageUrl, PdfPage, RECT_ALLOWED, shown};
use crate::rect::Rect;
use crate::request::{Input, Request};
use crate::violation::LimitViolation;
use crate::wire::form::{decode_base64_field, parse_pairs};

/// The fields a request body may carry, still as wire text.
#[derive(Default, Deserialize)]
struct Fields {
    image: Option<String>,
    url: Option<String>,
    pdf_file: Option<String>,
    pdf_file_num: Option<String>,
    option: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    mask_id: Option<String>,
    style_id: Option<String>,
    style: Option<String>,
    rectangle: Option<serde_json::Value>,
}

impl Fields {
    /// Reads a form body; the first occurrence of a name wins, unknown names are ignored.
    fn from_form(body: &[u8]) -> Self {
        let mut fields = Self::default();
        for (name, value) in parse_pairs(body) {
            let slot = match name.as_str() {
                "image" => &mut fields.image,
                "url" => &mut fields.url,
                "pdf_file" => &mut fields.pdf_file,
                "pdf_file_num" => &mut fields.pdf_file_num,
                "option" => &mut fields.option,
                "type" => &mut fields.kind,
                "mask_id" => &mut fields.mask_id,
                "style_id" => &mut fields.style_id,
                "style" => &mut fields.style,
                _ => continue,
            };
            if slot.is_none() {
                // Base64, numbers and names are ASCII; anything else is refused later.
                *slot = Some(
                    String::from_utf8(value)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                );
            }
        }
        fields
    }

    /// Reads a JSON body (`inpainting`).
    fn from_json(body: &[u8]) -> Result<Self, LimitViolation> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        // Numbers where the form has text are accepted as their digits.
        #[derive(Deserialize)]
        struct Json {
            image: Option<String>,
            url: Option<String>,
            rectangle: Option<serde_json::Value>,
        }
        let json: Json =
            serde_json::from_slice(body).map_err(|_| LimitViolation::InvalidParameter {
                name: "body",
                got: shown(&String::from_utf8_lossy(body.get(..64).unwrap_or(body))),
                allowed: "a JSON object with image or url, and rectangle",
            })?;
        Ok(Self {
            image: json.image,
            url: json.url,
            rectangle: json.rectangle,
            ..Self::default()
        })
    }
}

/// Non-empty text, trimmed.
fn present(field: Option<&String>) -> Option<&str> {
    field.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// A request's parameters as they arrived, whatever the body kind: what
/// [`decode_params`] reads. [`decode_request`] implements it over a whole body; a server
/// that decodes bodies its own way (the emulator streams them) implements it over its
/// fields.
pub trait ParamFields {
    /// The text of the scalar parameter `name` (a JSON number given as its digits);
    /// `None` when absent.
    fn text(&self, name: &str) -> Option<Cow<'_, str>>;
    /// The `rectangle` parameter as JSON: `None` when absent, an error when its text is
    /// not JSON (a form, and some JSON clients, send the array as JSON text).
    fn rectangle(&self) -> Option<Result<serde_json::Value, LimitViolation>>;
}

impl ParamFields for Fields {
    fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        let field = match name {
            "option" => &self.option,
            "type" => &self.kind,
            "mask_id" => &self.mask_id,
            "style_id" => &self.style_id,
            "style" => &self.style,
            _ => return None,
        };
        field.as_deref().map(Cow::Borrowed)
    }

    fn rectangle(&self) -> Option<Result<serde_json::Value, LimitViolation>> {
        Some(match self.rectangle.as_ref()? {
            serde_json::Value::String(text) => rectangle_from_text(text.as_bytes()),
            other => Ok(other.clone()),
        })
    }
}

/// The `rectangle` parameter sent as JSON text, parsed (216100 when it is not JSON): for
/// [`ParamFields::rectangle`] implementations.
pub fn rectangle_from_text(text: &[u8]) -> Result<serde_json::Value, LimitViolation> {
    serde_json::from_slice(text).map_err(|_| LimitViolation::InvalidParameter {
        name: "rectangle",
        got: shown(&String::from_utf8_lossy(text)),
        allowed: RECT_ALLOWED,
    })
}

/// Decodes the body of a request to `op` into the typed request, checked as the service
/// checks it (every limit of the table, rectangles inside the image).
pub fn decode_request(op: Operation, body: &[u8]) -> Result<Request<'static>, LimitViolation> {
    let row = spec(op);
    let fields = match row.body {
        BodyKind::Form => Fields::from_form(body),
        BodyKind::Json => Fields::from_json(body)?,
    };
    let input = input(row, &fields)?;
    let params = decode_params(op, &fields)?;
    let request = Request::new(input, params);
    request.validate()?;
    Ok(request)
}

/// The input: `image` wins over `url`, which wins over `pdf_file`.
fn input(row: &OperationSpec, fields: &Fields) -> Result<Input<'static>, LimitViolation> {
    let max = row.limits.max_base64_len;
    if let Some(text) = present(fields.image.as_ref()) {
        return Ok(Input::Image(Cow::Owned(decode_base64_field(
            text.as_bytes(),
            max,
        )?)));
    }
    if let Some(url) = present(fields.url.as_ref()) {
        return Ok(Input::Url(ImageUrl::new(url)?));
    }
    if row.accepts(InputKind::PdfFile)
        && let Some(text) = present(fields.pdf_file.as_ref())
    {
        let page = present(fields.pdf_file_num.as_ref())
            .map(str::parse::<PdfPage>)
            .transpose()?;
        let file = decode_base64_field(text.as_bytes(), max)?;
        return Ok(Input::Pdf {
            file: Cow::Owned(file),
            page,
        });
    }
    Err(LimitViolation::Empty)
}

/// The typed parameters of a request to `op` from its fields, checked as the service
/// checks them (216100 for an invalid value, 216101 for a missing one, the custom style
/// image's base64 within its own limit). Which fields are read, and how, comes from the
/// operation's row: text for choices and integers, JSON for rectangles, base64 for an
/// image.
pub fn decode_params(
    op: Operation,
    fields: &dyn ParamFields,
) -> Result<Params<'static>, LimitViolation> {
    let mut values: Vec<(&'static str, WireValue)> = Vec::new();
    for param in spec(op).params {
        let text = || {
            fields
                .text(param.name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let value = match param.kind {
            ParamKind::Choice { .. } | ParamKind::Integer { .. } => text().map(WireValue::Text),
            ParamKind::Rectangles => match fields.rectangle() {
                Some(json) => Some(WireValue::Rectangles(rects(&json?)?)),
                None => None,
            },
            ParamKind::Image(limits) => match text() {
                Some(text) => Some(WireValue::Image(decode_base64_field(
                    text.as_bytes(),
                    limits.max_base64_len,
                )?)),
                None => None,
            },
        };
        if let Some(value) = value {
            values.push((param.name, value));
        }
    }
    Params::from_values(op, |name| {
        let at = values.iter().position(|(n, _)| *n == name)?;
        Some(values.swap_remove(at).1)
    })
}

/// `[{"left","top","width","height"}, ...]`, each a non-negative integer (a number, or
/// a number as a string, as some clients send them).
fn rects(value: &serde_json::Value) -> Result<Vec<Rect>, LimitViolation> {
    let invalid = || LimitViolation::InvalidParameter {
        name: "rectangle",
        got: shown(&value.to_string()),
        allowed: RECT_ALLOWED,
    };
    let items = value.as_array().ok_or_else(invalid)?;
    items
        .iter()
        .map(|item| {
            let field = |name: &str| {
                item.get(name)
                    .and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    })
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(invalid)
            };
            Ok(Rect::new(
                field("left")?,
                field("top")?,
                field("width")?,
                field("height")?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::params::{AnimeMask, CustomStyle, Strength, Style, StyleId};
    use baidu_imageprocess_test_support::png_header;

    fn form(image: &[u8], extra: &[(&str, &str)]) -> Vec<u8> {
        crate::wire::form::encode_image_form(image, extra)
    }

    #[test]
    fn codes_for_missing_and_invalid_parameters() {
        let image = png_header(300, 300);
        let code = |op, body: &[u8]| decode_request(op, body).map(|_| ()).map_err(|e| e.code());
        assert_eq!(
            code(Operation::StyleTrans, &form(&image, &[])),
            Err(ErrorCode::NOT_ENOUGH_PARAM)
        );
        assert_eq!(
            code(Operation::StyleTrans, &form(&image, &[("option", "oil")])),
            Err(ErrorCode::INVALID_PARAM)
        );
        assert_eq!(
            code(Operation::StyleTrans, &form(&image, &[("option", "wave")])),
            Ok(())
        );
        assert_eq!(
            code(Operation::Denoise, &form(&image, &[("option", "201")])),
            Err(ErrorCode::INVALID_PARAM)
        );
        assert_eq!(
            code(Operation::Denoise, &form(&image, &[("option", "200")])),
            Ok(())
        );
        assert_eq!(
            code(
                Operation::SelfieAnime,
                &form(&image, &[("type", "anime_mask"), ("mask_id", "9")])
            ),
            Err(ErrorCode::INVALID_PARAM)
        );
        assert_eq!(
            code(Operation::CustomizeStylization, &form(&image, &[])),
            Err(ErrorCode::NOT_ENOUGH_PARAM)
        );
        assert_eq!(
            code(Operation::Dehaze, b"url=ftp%3A%2F%2Fx"),
            Err(ErrorCode::URL_FORMAT_ILLEGAL)
        );
        assert_eq!(
            code(Operation::Dehaze, b"url=https%3A%2F%2Fx.com%2Fa.jpg"),
            Ok(())
        );
        assert_eq!(
            code(Operation::Dehaze, b"pdf_file=JVBERi0%3D"),
            Err(ErrorCode::EMPTY_IMAGE)
        );
        assert_eq!(
            code(
                Operation::RemoveMoire,
                b"pdf_file=JVBERi0%3D&pdf_file_num=2"
            ),
            Ok(())
        );
        assert_eq!(
            code(Operation::Inpainting, &form(&image, &[])),
            Err(ErrorCode::INVALID_PARAM)
        );
        assert_eq!(
            code(Operation::Inpainting, br#"{"url":"https://x.com/a.jpg"}"#),
            Err(ErrorCode::NOT_ENOUGH_PARAM)
        );
    }

    #[test]
    fn rectangles_as_json_text_or_with_numbers_as_strings_are_read() {
        let expected = Params::Inpainting(Cow::Owned(vec![Rect::new(1, 2, 3, 4)]));
        for body in [
            &br#"{"url":"https://x.com/a.jpg","rectangle":[{"left":1,"top":2,"width":3,"height":"4"}]}"#[..],
            br#"{"url":"https://x.com/a.jpg","rectangle":"[{\"left\":1,\"top\":2,\"width\":3,\"height\":4}]"}"#,
        ] {
            let request = decode_request(Operation::Inpainting, body).unwrap();
            assert_eq!(request.params(), &expected);
        }
        let not_json = br#"{"url":"https://x.com/a.jpg","rectangle":"[{"}"#;
        assert_eq!(
            decode_request(Operation::Inpainting, not_json).map_err(|e| e.code()),
            Err(ErrorCode::INVALID_PARAM)
        );
    }

    #[test]
    fn image_wins_over_url_and_limits_are_the_services() {
        let image = png_header(6000, 100);
        let mut body = form(&image, &[("url", "https://x.com/a.jpg")]);
        assert_eq!(
            decode_request(Operation::SkySeg, &body)
                .map_err(|e| e.code())
                .map(|_| ()),
            Err(ErrorCode::IMAGE_SIZE_ERROR)
        );
        body = form(&png_header(300, 300), &[("url", "https://x.com/a.jpg")]);
        let request = decode_request(Operation::SkySeg, &body).unwrap();
        assert!(matches!(request.input(), Input::Image(_)));
    }

    #[test]
    fn round_trips_every_operation() {
        let image = png_header(300, 300);
        let style = png_header(64, 64);
        let rects = [Rect::new(10, 10, 20, 20)];
        for params in [
            Params::Dehaze,
            Params::StyleTrans(Style::Gothic),
            Params::SelfieAnime {
                mask: AnimeMask::new(8).ok(),
            },
            Params::SelfieAnime { mask: None },
            Params::Inpainting(Cow::Borrowed(&rects)),
            Params::Denoise(Strength::new(0).unwrap()),
            Params::CustomizeStylization(CustomStyle::Preset(StyleId::new(29).unwrap())),
            Params::CustomizeStylization(CustomStyle::Image(Cow::Borrowed(&style))),
        ] {
            for input in [
                Input::image(&image[..]),
                Input::url("https://x.com/a.jpg?b=1&c=%20").unwrap(),
            ] {
                let request = Request::new(input, params.clone());
                let body = request.encode();
                let decoded = decode_request(request.operation(), &body.bytes).unwrap();
                assert_eq!(decoded, request, "{request:?}");
            }
        }
    }
}
