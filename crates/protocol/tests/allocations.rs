//! Allocation counts of the codec, with a counting global allocator. The counters are
//! process-wide, so this binary has no test harness (`harness = false`): libtest's own
//! threads would allocate beside the measurement on a loaded machine.

// Helpers outside `#[test]` functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::System;
use std::hint::black_box;

use baidu_imageprocess_protocol::{decode_image_reply, encode_image_form};
use base64::Engine as _;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut v = vec![0u8; n];
    rng.fill(&mut v);
    v
}

fn main() {
    one_allocation_per_body_each_way();
    println!("allocations: 1 passed, 0 failed");
}

fn one_allocation_per_body_each_way() {
    for (n, seed) in [
        (1, 1),
        (100, 2),
        (100 * 1024, 3),
        (1024 * 1024, 4),
        (3 * 1024 * 1024, 5),
    ] {
        let image = random_bytes(n, seed);

        let region = Region::new(GLOBAL);
        let body = black_box(encode_image_form(black_box(&image), &[]));
        let encode = region.change();
        assert_eq!(
            (encode.allocations, encode.reallocations),
            (1, 0),
            "encoding {n} bytes: {encode:?}"
        );
        drop(body);

        // Decoding a reply allocates the output image and nothing else: the base64 text
        // is borrowed from the body, not copied.
        let b64 = base64::engine::general_purpose::STANDARD.encode(&image);
        let reply = format!(r#"{{"log_id":"6876747463538438254","image":"{b64}"}}"#);
        let region = Region::new(GLOBAL);
        let decoded = black_box(decode_image_reply(200, black_box(reply.as_bytes())).unwrap());
        let decode = region.change();
        assert_eq!(
            (decode.allocations, decode.reallocations),
            (1, 0),
            "decoding {n} bytes: {decode:?}"
        );
        assert_eq!(decoded.image, image);
    }
}
