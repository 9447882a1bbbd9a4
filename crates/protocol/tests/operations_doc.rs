//! `docs/operations.md` is generated from the operation table; this test fails when the
//! two disagree. `UPDATE_DOCS=1` rewrites the file instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn docs_operations_md_matches_the_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/operations.md");
    let generated = baidu_imageprocess_protocol::optable::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/operations.md is out of date: run `UPDATE_DOCS=1 cargo test -p baidu-imageprocess-protocol --test operations_doc`"
    );
    for op in baidu_imageprocess_protocol::Operation::ALL {
        assert!(generated.contains(op.path()), "{op} missing");
    }
}
