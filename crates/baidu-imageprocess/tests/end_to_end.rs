//! End to end, one test per operation: its convenience method on both clients against the
//! emulator running the real engine on loopback; plus `url` input and parameters refused
//! before sending.

use baidu_imageprocess::{
    AnimeMask, BlockingClient, Client, CustomStyle, Error, ImageReply, ImageUrl, Rect, Strength,
    Style, StyleId,
};
use baidu_imageprocess_emulator::Emulator;
use baidu_imageprocess_test_support::photo;

fn clients(emulator: &Emulator) -> (Client, BlockingClient) {
    let client = Client::builder()
        .api_key("ak", "sk")
        .endpoint(emulator.base_url())
        .build()
        .unwrap();
    let blocking = BlockingClient::builder()
        .api_key("ak", "sk")
        .endpoint(emulator.base_url())
        .build()
        .unwrap();
    (client, blocking)
}

/// The reply is an image of `format` and `size` with a log id.
fn assert_image(reply: &ImageReply, format: image::ImageFormat, size: Option<(u32, u32)>) {
    assert_eq!(image::guess_format(&reply.image).ok(), Some(format));
    if let Some(size) = size {
        let img = image::load_from_memory(&reply.image).unwrap();
        assert_eq!((img.width(), img.height()), size);
    }
    assert!(reply.log_id.0 > 0);
}

/// Runs `async_call` and `blocking_call` on a PNG and a JPEG and checks both replies with
/// `check`; then the emulator must have served exactly those four requests at `path`.
macro_rules! both_clients {
    ($name:ident, $path:expr, |$c:ident, $b:ident, $img:ident| $async_call:expr, $blocking_call:expr, $check:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let emulator = Emulator::builder().start().unwrap();
            let ($c, blocking) = clients(&emulator);
            for format in [image::ImageFormat::Png, image::ImageFormat::Jpeg] {
                let $img = photo(240, 200, format);
                let reply: ImageReply = $async_call.await.unwrap();
                $check(&reply, format);
                let $img = $img.clone();
                let $b = blocking.clone();
                let reply: ImageReply =
                    tokio::task::spawn_blocking(move || $blocking_call.unwrap())
                        .await
                        .unwrap();
                $check(&reply, format);
            }
            assert_eq!(emulator.stats().requests.get($path), Some(&4));
        }
    };
}

fn same_size(reply: &ImageReply, format: image::ImageFormat) {
    assert_image(reply, format, Some((240, 200)));
}

/// One `both_clients!` test per operation that takes only the image and answers an image
/// of the same size; the test, the method and the emulator's path share the name.
macro_rules! same_size_ops {
    ($($op:ident),+ $(,)?) => {
        $(both_clients!(
            $op,
            stringify!($op),
            |c, b, img| c.$op(&img),
            b.$op(&img),
            same_size
        );)+
    };
}

same_size_ops!(
    dehaze,
    contrast_enhance,
    colourize,
    image_definition_enhance,
    color_enhance,
    remove_moire,
    doc_repair,
);

both_clients!(
    image_quality_enhance,
    "image_quality_enhance",
    |c, b, img| c.image_quality_enhance(&img),
    b.image_quality_enhance(&img),
    |r: &ImageReply, f| assert_image(r, f, Some((480, 400)))
);
both_clients!(
    stretch_restore,
    "stretch_restore",
    |c, b, img| c.stretch_restore(&img),
    b.stretch_restore(&img),
    |r: &ImageReply, f| assert_image(r, f, None)
);
both_clients!(
    style_trans,
    "style_trans",
    |c, b, img| c.style_trans(&img, Style::Wave),
    b.style_trans(&img, Style::Lavender),
    same_size
);
both_clients!(
    selfie_anime,
    "selfie_anime",
    |c, b, img| c.selfie_anime(&img, AnimeMask::new(6).ok()),
    b.selfie_anime(&img, None),
    same_size
);
both_clients!(
    inpainting,
    "inpainting",
    |c, b, img| c.inpainting(&img, &[Rect::new(20, 20, 50, 40)]),
    b.inpainting(&img, &[Rect::new(0, 0, 240, 10), Rect::new(100, 100, 5, 5)]),
    same_size
);
both_clients!(
    sky_seg,
    "sky_seg",
    |c, b, img| c.sky_seg(&img),
    b.sky_seg(&img),
    |r: &ImageReply, _| {
        for map in [r.labelmap().unwrap(), r.scoremap().unwrap()] {
            let img = image::load_from_memory(&map).unwrap();
            assert_eq!((img.width(), img.height()), (240, 200));
        }
    }
);
both_clients!(
    denoise,
    "denoise",
    |c, b, img| c.denoise(&img, Strength::new(90).unwrap()),
    b.denoise(&img, Strength::new(0).unwrap()),
    same_size
);
both_clients!(
    customize_stylization,
    "customize_stylization",
    |c, b, img| c.customize_stylization(&img, CustomStyle::Preset(StyleId::new(29).unwrap())),
    b.customize_stylization(
        &img,
        CustomStyle::Image(photo(64, 64, image::ImageFormat::Png).into())
    ),
    same_size
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_input_and_parameters_refused_before_sending() {
    let emulator = Emulator::builder().start().unwrap();
    let (client, _) = clients(&emulator);
    // A url the emulator will not fetch (not loopback): the service's code comes back.
    let url = ImageUrl::new("http://192.0.2.1/photo.png").unwrap();
    let err = client.dehaze(url).await.unwrap_err();
    assert_eq!(
        err.code().map(baidu_imageprocess::ErrorCode::get),
        Some(282_111),
        "{err}"
    );
    // A rectangle outside the image is refused from the header, nothing is sent.
    let image = photo(240, 200, image::ImageFormat::Png);
    let before = emulator.stats().requests.get("inpainting").copied();
    let err = client
        .inpainting(&image, &[Rect::new(230, 0, 20, 20)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    assert_eq!(emulator.stats().requests.get("inpainting").copied(), before);
}
