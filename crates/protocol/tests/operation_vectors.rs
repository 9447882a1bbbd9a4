//! Golden request bodies of every operation: ours against what the official Python SDK
//! 4.16.13 sends (`vectors/make_operation_vectors.py`) and, for `inpainting`, what the
//! Node SDK 4.16.16 sends (`vectors/make_inpainting_vector.js`), byte for byte. Each
//! golden body also decodes, on the server side, to the request that produced it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use baidu_imageprocess_protocol::{
    AnimeMask, BodyKind, ClientConfig, Credentials, CustomStyle, Input, Machine, Operation, Params,
    PdfPage, Rect, Request, Session, Step, Strength, Style, StyleId, decode_request,
};
use serde::Deserialize;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/operations")
}

/// The generators' bytes: every byte value, so the base64 holds `+`, `/` and padding.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + 3) % 256) as u8).collect()
}

fn image() -> Vec<u8> {
    let mut v = support::png_header(300, 300);
    v.extend(pattern(1000));
    v
}

fn style_image() -> Vec<u8> {
    let mut v = support::png_header(64, 64);
    v.extend(pattern(101));
    v
}

fn pdf() -> Vec<u8> {
    let mut v = b"%PDF-1.4\n".to_vec();
    v.extend(pattern(500));
    v
}

#[derive(Deserialize)]
struct Manifest {
    url: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    operation: String,
    input: String,
    params: BTreeMap<String, String>,
}

fn params<'a>(op: Operation, given: &BTreeMap<String, String>, style: &'a [u8]) -> Params<'a> {
    let get = |name: &str| given.get(name).map(String::as_str);
    match op {
        Operation::StyleTrans => {
            Params::StyleTrans(get("option").unwrap().parse::<Style>().unwrap())
        }
        Operation::SelfieAnime => Params::SelfieAnime {
            mask: get("mask_id").map(|m| m.parse::<AnimeMask>().unwrap()),
        },
        Operation::Denoise => Params::Denoise(get("option").unwrap().parse::<Strength>().unwrap()),
        Operation::CustomizeStylization => match get("style") {
            Some(_) => Params::CustomizeStylization(CustomStyle::Image(Cow::Borrowed(style))),
            None => Params::CustomizeStylization(CustomStyle::Preset(
                get("style_id").unwrap().parse::<StyleId>().unwrap(),
            )),
        },
        _ => Params::defaults(op).unwrap(),
    }
}

#[test]
fn every_form_body_is_the_python_sdks() {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir().join("manifest.json")).unwrap()).unwrap();
    let (image, style, pdf) = (image(), style_image(), pdf());
    let mut covered = Vec::new();
    for case in &manifest.cases {
        let op: Operation = case.operation.parse().unwrap();
        let input = match case.input.as_str() {
            "image" => Input::image(&image[..]),
            "url" => Input::url(manifest.url.clone()).unwrap(),
            "pdf" => Input::pdf(
                &pdf[..],
                case.params
                    .get("pdf_file_num")
                    .map(|p| p.parse::<PdfPage>().unwrap()),
            ),
            other => panic!("unknown input {other}"),
        };
        let request = Request::new(input, params(op, &case.params, &style));
        assert_eq!(request.validate().map(|_| ()), Ok(()), "{}", case.name);
        let body = request.encode();
        assert_eq!(body.kind, BodyKind::Form);
        let expected = std::fs::read_to_string(dir().join(format!("{}.body", case.name))).unwrap();
        let actual = String::from_utf8(body.bytes.clone()).unwrap();
        assert!(
            actual == expected,
            "{}: body differs\n{}",
            case.name,
            support::diff(&expected.replace('&', "\n&"), &actual.replace('&', "\n&"))
        );
        assert_eq!(
            decode_request(op, expected.as_bytes()).unwrap(),
            request,
            "{}",
            case.name
        );
        covered.push(op);
    }
    for op in Operation::ALL {
        assert!(
            covered.contains(&op) || op == Operation::Inpainting,
            "no golden body for {op}"
        );
    }
}

#[derive(Deserialize)]
struct JsonManifest {
    content_type: String,
    rectangles: Vec<JsonRect>,
}

#[derive(Deserialize)]
struct JsonRect {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

#[test]
fn the_inpainting_body_is_the_node_sdks() {
    let manifest: JsonManifest =
        serde_json::from_slice(&std::fs::read(dir().join("inpainting.manifest.json")).unwrap())
            .unwrap();
    let rects: Vec<Rect> = manifest
        .rectangles
        .iter()
        .map(|r| Rect::new(r.left, r.top, r.width, r.height))
        .collect();
    let image = image();
    let request = Request::new(
        Input::image(&image[..]),
        Params::Inpainting(Cow::Borrowed(&rects)),
    );
    assert_eq!(request.validate().map(|_| ()), Ok(()));
    let expected = std::fs::read(dir().join("inpainting.json")).unwrap();
    assert_eq!(
        String::from_utf8(request.encode().bytes).unwrap(),
        String::from_utf8(expected.clone()).unwrap()
    );
    assert_eq!(
        decode_request(Operation::Inpainting, &expected).unwrap(),
        request
    );

    // And the call sends it with the Node SDK's Content-Type.
    let session = Session::new(ClientConfig::new(Credentials::access_token("24.t")));
    let mut call = session.request(&request, Instant::now()).unwrap();
    let Step::Send(sent) = call.next(Instant::now()) else {
        panic!("the call sent nothing");
    };
    assert_eq!(
        sent.headers()["content-type"],
        manifest.content_type.as_str()
    );
    assert_eq!(sent.body().as_ref(), &expected[..]);
    assert!(sent.uri().path().ends_with("/inpainting"));
}
