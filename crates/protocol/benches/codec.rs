//! Request encoding and reply decoding at 100 KB, 1 MB and 3 MB of random image bytes
//! (compressed JPEG/PNG data is statistically close to random). Throughput is in bytes
//! of base64 text, the unit both directions share.
//!
//! `cargo bench -p baidu-imageprocess-protocol --bench codec`

use std::hint::black_box;
use std::time::Duration;

use baidu_imageprocess_protocol::{
    base64_len, decode_image_form, decode_image_reply, encode_image_form,
};
use base64::Engine as _;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [(&str, usize); 3] = [
    ("100KB", 100 * 1024),
    ("1MB", 1024 * 1024),
    ("3MB", 3 * 1024 * 1024),
];

fn random_bytes(n: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(0x5EED);
    let mut v = vec![0u8; n];
    rng.fill(&mut v);
    v
}

fn reply_body(image: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(image);
    format!(r#"{{"log_id":6876747463538438254,"image":"{b64}"}}"#).into_bytes()
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_image_form");
    for (name, n) in SIZES {
        let image = random_bytes(n);
        group.throughput(Throughput::Bytes(base64_len(n) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &image, |b, image| {
            b.iter(|| encode_image_form(black_box(image), &[]));
        });
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_image_reply");
    for (name, n) in SIZES {
        let body = reply_body(&random_bytes(n));
        group.throughput(Throughput::Bytes(base64_len(n) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &body, |b, body| {
            b.iter(|| decode_image_reply(200, black_box(body)));
        });
    }
    group.finish();
}

/// The emulator's side: form body back to image bytes.
fn decode_form(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_image_form");
    for (name, n) in SIZES {
        let body = encode_image_form(&random_bytes(n), &[]);
        group.throughput(Throughput::Bytes(base64_len(n) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &body, |b, body| {
            b.iter(|| decode_image_form(black_box(body)));
        });
    }
    group.finish();
}

fn config() -> Criterion {
    // Short runs: the VM has two shared cores.
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = encode, decode, decode_form
}
criterion_main!(benches);
