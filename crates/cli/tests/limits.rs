//! `bdip` checks every operation's limits from its table row, on the embedded engine
//! exactly as against the service: an image outside the row is refused from its header,
//! before anything is decoded or sent (issue 27 item 1).

use baidu_imageprocess::protocol::{Limits, Operation, optable};
// A header and nothing else: only a header check can judge it.
use baidu_imageprocess_test_support::images::png_header;

mod support;
use support::bdip;

/// Sides just outside `limits` (aspect, else longest side, else pixel count).
fn outside(limits: &Limits) -> (u32, u32) {
    if let Some(aspect) = limits.max_aspect {
        let long = limits.max_side;
        return (long, long / (aspect + 1));
    }
    if limits.max_side < u32::MAX {
        return (limits.max_side + 1, limits.min_side.max(100));
    }
    let side = u32::try_from(limits.max_pixels.unwrap().isqrt() + 1).unwrap();
    (side, side)
}

/// The flags an operation's subcommand requires.
fn required_flags(op: Operation) -> &'static [&'static str] {
    match op {
        Operation::StyleTrans => &["--style", "cartoon"],
        Operation::Denoise => &["--strength", "50"],
        Operation::Inpainting => &["--rect", "0,0,10,10"],
        Operation::CustomizeStylization => &["--style-id", "1"],
        _ => &[],
    }
}

#[test]
fn every_subcommand_refuses_an_image_outside_its_row_on_the_local_engine() {
    let dir = tempfile::tempdir().unwrap();
    for op in Operation::ALL {
        let (w, h) = outside(&optable::spec(op).limits);
        let input = dir.path().join(format!("{}.png", op.name()));
        std::fs::write(&input, png_header(w, h)).unwrap();
        let output = bdip()
            .arg(op.cli_name())
            .args(required_flags(op))
            .arg(&input)
            .arg("--local")
            .arg("--out-dir")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{op} {w}×{h}: {stderr}");
        assert!(
            stderr.contains(&format!("{w}×{h}")) && stderr.contains(op.name()),
            "{op} {w}×{h}: the refusal names the sides and the operation: {stderr}"
        );
    }
}
