//! Every operation through both clients, against a transport that records what is sent:
//! typed parameters on the wire, `url` input, the inpainting JSON, `sky_seg`'s fields, and
//! invalid requests refused before anything is sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use baidu_imageprocess::protocol::{AsyncTransport, HttpRequest, HttpResponse, TransportError};
use baidu_imageprocess::{
    AnimeMask, BlockingClient, Client, CustomStyle, Error, ImageUrl, Operation, Rect, RetryPolicy,
    Strength, Style, StyleId,
};
use baidu_imageprocess_test_support::png_header as png;
use bytes::Bytes;

/// One recorded request: path, content type, body.
type Sent = (String, String, Vec<u8>);

/// Records each request and answers `reply`.
#[derive(Clone)]
struct Recorder {
    sent: Arc<Mutex<Vec<Sent>>>,
    reply: &'static str,
}

impl Recorder {
    fn new(reply: &'static str) -> Self {
        Self {
            sent: Arc::default(),
            reply,
        }
    }

    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        let content_type = request.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        self.sent.lock().unwrap().push((
            request.uri().path().to_owned(),
            content_type,
            request.body().to_vec(),
        ));
        HttpResponse::new(Bytes::from_static(self.reply.as_bytes()))
    }

    fn last(&self) -> (String, String, String) {
        let sent = self.sent.lock().unwrap();
        let (path, content_type, body) = sent.last().cloned().expect("nothing was sent");
        (path, content_type, String::from_utf8(body).unwrap())
    }

    fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

impl AsyncTransport for Recorder {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Ok(self.answer(&request))
    }
}

const OK: &str = r#"{"log_id":1,"image":"aGk="}"#;

fn blocking(recorder: &Recorder) -> BlockingClient {
    let r = recorder.clone();
    BlockingClient::builder()
        .access_token("24.t")
        .retry_policy(RetryPolicy::disabled())
        .transport(move |request: HttpRequest| Ok(r.answer(&request)))
        .build()
        .unwrap()
}

#[test]
fn parameters_and_inputs_on_the_wire() {
    let r = Recorder::new(OK);
    let c = blocking(&r);
    let image = png(320, 240);

    c.style_trans(&image, Style::ColorPencil).unwrap();
    let (path, content_type, body) = r.last();
    assert!(path.ends_with("/style_trans"));
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    assert!(body.starts_with("image=iVBORw0KGgo") && body.ends_with("&option=color_pencil"));

    c.selfie_anime(&image, AnimeMask::new(3).ok()).unwrap();
    assert!(r.last().2.ends_with("&type=anime_mask&mask_id=3"));
    c.selfie_anime(&image, None).unwrap();
    assert!(!r.last().2.contains("type="));
    c.denoise(&image, Strength::new(150).unwrap()).unwrap();
    assert!(r.last().2.ends_with("&option=150"));
    c.customize_stylization(&image, CustomStyle::Preset(StyleId::new(29).unwrap()))
        .unwrap();
    assert!(r.last().2.ends_with("&style_id=29"));
    let style = png(64, 64);
    c.customize_stylization(&image, CustomStyle::Image(style[..].into()))
        .unwrap();
    assert!(r.last().2.contains("&style=iVBORw0KGgo"));

    c.inpainting(&image, &[Rect::new(1, 2, 3, 4)]).unwrap();
    let (path, content_type, body) = r.last();
    assert!(path.ends_with("/inpainting"));
    assert_eq!(content_type, "application/json");
    assert!(body.ends_with(r#","rectangle":[{"left":1,"top":2,"width":3,"height":4}]}"#));

    let url = ImageUrl::new("https://example.com/a.jpg?x=1").unwrap();
    c.dehaze(&url).unwrap();
    assert_eq!(r.last().2, "url=https%3A%2F%2Fexample.com%2Fa.jpg%3Fx%3D1");
    c.inpainting(&url, &[Rect::new(0, 0, 5, 5)]).unwrap();
    assert!(
        r.last()
            .2
            .starts_with(r#"{"url":"https://example.com/a.jpg?x=1","#)
    );

    // Every parameterless operation has its method and its path.
    type Method = fn(&BlockingClient, &[u8]) -> Result<baidu_imageprocess::ImageReply, Error>;
    let methods: [(Operation, Method); 10] = [
        (Operation::ImageQualityEnhance, |c, i| {
            c.image_quality_enhance(i)
        }),
        (Operation::Dehaze, |c, i| c.dehaze(i)),
        (Operation::ContrastEnhance, |c, i| c.contrast_enhance(i)),
        (Operation::Colourize, |c, i| c.colourize(i)),
        (Operation::StretchRestore, |c, i| c.stretch_restore(i)),
        (Operation::ImageDefinitionEnhance, |c, i| {
            c.image_definition_enhance(i)
        }),
        (Operation::ColorEnhance, |c, i| c.color_enhance(i)),
        (Operation::SkySeg, |c, i| c.sky_seg(i)),
        (Operation::RemoveMoire, |c, i| c.remove_moire(i)),
        (Operation::DocRepair, |c, i| c.doc_repair(i)),
    ];
    for (op, method) in methods {
        let reply = method(&c, &image).unwrap();
        assert_eq!(reply.image, b"hi");
        assert_eq!(r.last().0, op.path());
    }
}

#[test]
fn invalid_requests_are_refused_before_sending() {
    let r = Recorder::new(OK);
    let c = blocking(&r);
    let image = png(320, 240);
    let err = c
        .inpainting(&image, &[Rect::new(300, 0, 21, 10)])
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(
        err.to_string().contains("outside the 320×240 image"),
        "{err}"
    );
    let err = c.inpainting(&image, &[]).unwrap_err();
    assert!(err.to_string().contains("rectangle"), "{err}");
    let err = c.process(Operation::StyleTrans, &image).unwrap_err();
    assert!(
        err.to_string().contains("option") && err.to_string().contains("gothic"),
        "{err}"
    );
    let small_style = png(20, 20);
    let err = c
        .customize_stylization(&image, CustomStyle::Image(small_style[..].into()))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert_eq!(r.count(), 0);
}

#[tokio::test]
async fn sky_seg_fields_through_the_async_client() {
    let r = Recorder::new(r#"{"log_id":"7","labelmap":"aGk=","scoremap":"b2s=","later":true}"#);
    let c = Client::builder()
        .access_token("24.t")
        .transport(r.clone())
        .build()
        .unwrap();
    let reply = c.sky_seg(png(320, 240)).await.unwrap();
    assert_eq!(reply.log_id.0, 7);
    assert_eq!(reply.labelmap().unwrap(), b"hi");
    assert_eq!(reply.scoremap().unwrap(), b"ok");
    assert_eq!(reply.fields["later"], true);
    assert!(r.last().0.ends_with("/sky_seg"));
    let reply = c.style_trans(png(320, 240), Style::Gothic).await;
    assert!(
        matches!(reply, Err(Error::Decode(_))),
        "a reply without image: {reply:?}"
    );
}
