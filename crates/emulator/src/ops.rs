//! The operations as the emulator serves them, read from the protocol crate's operation
//! table: the body's size caps and the checked [`Request`] (the fields are decoded by
//! `protocol::decode_params`).

use baidu_imageprocess_protocol::{
    self as protocol, BodyKind, Input, InputKind, Operation, OperationSpec, Params, Request,
};

pub(crate) use crate::service::Refusal;

/// Room for every field but the images (names, `url`, small parameters, rectangles).
pub(crate) const FIELDS_OVERHEAD: usize = 64 * 1024;

/// One operation as served: its row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) op: Operation,
    pub(crate) spec: &'static OperationSpec,
}

impl Endpoint {
    pub(crate) const fn of(op: Operation) -> Self {
        Self {
            op,
            spec: protocol::optable::spec(op),
        }
    }

    /// The operation served at `path` (also under the spec's `image-classify` typo).
    pub(crate) fn from_path(path: &str) -> Option<Self> {
        Operation::from_path(path).map(Self::of)
    }

    /// The wire name, e.g. `style_trans`.
    pub(crate) const fn wire(&self) -> &'static str {
        self.op.name()
    }

    pub(crate) const fn is_json(&self) -> bool {
        matches!(self.spec.body, BodyKind::Json)
    }

    pub(crate) fn accepts_pdf(&self) -> bool {
        self.spec.accepts(InputKind::PdfFile)
    }

    /// Largest sum of decoded field values a request may carry.
    pub(crate) const fn max_fields(&self) -> usize {
        // Image parameters (a style image) come on top of the input.
        let mut images = 0;
        let mut i = 0;
        while i < self.spec.params.len() {
            if let protocol::optable::ParamKind::Image(limits) = self.spec.params[i].kind {
                images += limits.max_base64_len;
            }
            i += 1;
        }
        self.spec.limits.max_base64_len + images + FIELDS_OVERHEAD
    }

    /// Largest body accepted on the wire: every character of the fields may arrive
    /// percent-encoded (three bytes each), e.g. a white BMP whose base64 is all `/`.
    pub(crate) const fn max_body(&self) -> usize {
        if self.is_json() {
            // JSON may escape `/` as `\/`.
            2 * self.max_fields()
        } else {
            3 * self.max_fields()
        }
    }
}

/// The largest body any operation accepts.
pub(crate) const LARGEST_BODY: usize = {
    let mut largest = 0;
    let mut i = 0;
    while i < Operation::ALL.len() {
        let body = Endpoint::of(Operation::ALL[i]).max_body();
        if body > largest {
            largest = body;
        }
        i += 1;
    }
    largest
};

/// Checks a decoded image and its parameters as the service does, from the table.
pub(crate) fn validated(
    image: Vec<u8>,
    params: Params<'static>,
) -> Result<Request<'static>, Refusal> {
    let request = Request::new(Input::image(image), params);
    request.validate()?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::borrow::Cow;

    use baidu_imageprocess_protocol::{
        AnimeMask, CustomStyle, LimitViolation, ParamFields, Rect, Style,
    };

    struct Map(Vec<(&'static str, &'static str)>);

    impl ParamFields for Map {
        fn text(&self, name: &str) -> Option<Cow<'_, str>> {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| Cow::Borrowed(*v))
        }
        fn rectangle(&self) -> Option<Result<serde_json::Value, LimitViolation>> {
            self.text("rectangle")
                .map(|text| protocol::rectangle_from_text(text.as_bytes()))
        }
    }

    fn params(
        op: Operation,
        fields: &[(&'static str, &'static str)],
    ) -> Result<Params<'static>, Refusal> {
        protocol::decode_params(op, &Map(fields.to_vec())).map_err(Refusal::from)
    }

    fn code(op: Operation, fields: &[(&'static str, &'static str)]) -> u32 {
        params(op, fields).unwrap_err().code.get()
    }

    #[test]
    fn parameters_decode_or_name_the_problem() {
        assert_eq!(
            params(Operation::StyleTrans, &[("option", "gothic")]),
            Ok(Params::StyleTrans(Style::Gothic))
        );
        assert_eq!(code(Operation::StyleTrans, &[]), 216_101);
        let bad = params(Operation::StyleTrans, &[("option", "sepia")]).unwrap_err();
        assert_eq!(bad.code.get(), 216_100);
        assert!(bad.message.contains("color_pencil"), "{}", bad.message);
        // mask_id counts only with type=anime_mask.
        assert_eq!(
            params(Operation::SelfieAnime, &[("mask_id", "3")]),
            Ok(Params::SelfieAnime { mask: None })
        );
        assert_eq!(
            params(
                Operation::SelfieAnime,
                &[("type", "anime_mask"), ("mask_id", "8")]
            ),
            Ok(Params::SelfieAnime {
                mask: AnimeMask::new(8).ok()
            })
        );
        for bad in ["0", "9", "x", "-1"] {
            let fields = [("type", "anime_mask"), ("mask_id", bad)];
            assert_eq!(code(Operation::SelfieAnime, &fields), 216_100, "{bad}");
        }
        assert_eq!(code(Operation::SelfieAnime, &[("type", "manga")]), 216_100);
        assert_eq!(code(Operation::Denoise, &[("option", "201")]), 216_100);
        assert_eq!(code(Operation::Denoise, &[]), 216_101);
        // The style image wins over the preset; its base64 is decoded.
        assert_eq!(
            params(
                Operation::CustomizeStylization,
                &[("style_id", "3"), ("style", "YWJj")]
            ),
            Ok(Params::CustomizeStylization(CustomStyle::Image(
                Cow::Owned(b"abc".to_vec())
            )))
        );
        assert_eq!(
            code(Operation::CustomizeStylization, &[("style", "a*c=")]),
            216_201
        );
        assert_eq!(
            code(Operation::CustomizeStylization, &[("style_id", "30")]),
            216_100
        );
        assert_eq!(code(Operation::CustomizeStylization, &[]), 216_101);
        assert_eq!(
            params(
                Operation::Inpainting,
                &[(
                    "rectangle",
                    r#"[{"left":1,"top":2,"width":3,"height":"4"}]"#
                )]
            ),
            Ok(Params::Inpainting(Cow::Owned(vec![Rect::new(1, 2, 3, 4)])))
        );
        for bad in [
            r#"[{"left":1}]"#,
            r#"{"left":1}"#,
            r#"[{"left":-1,"top":0,"width":1,"height":1}]"#,
        ] {
            assert_eq!(
                code(Operation::Inpainting, &[("rectangle", bad)]),
                216_100,
                "{bad}"
            );
        }
        assert_eq!(code(Operation::Inpainting, &[]), 216_101);
    }

    #[test]
    fn body_caps_follow_the_table() {
        // A white 1000×1000 BMP, every base64 character escaped, fits the seed's body cap.
        assert!(Endpoint::of(Operation::Dehaze).max_body() >= 3 * 4_000_072 + 6);
        assert!(
            Endpoint::of(Operation::Denoise).max_fields()
                < Endpoint::of(Operation::Dehaze).max_fields()
        );
        assert!(Endpoint::of(Operation::Inpainting).is_json());
        assert!(Endpoint::of(Operation::RemoveMoire).accepts_pdf());
        assert_eq!(
            LARGEST_BODY,
            Operation::ALL
                .iter()
                .map(|op| Endpoint::of(*op).max_body())
                .max()
                .unwrap()
        );
    }
}
