//! The official Node SDK against the emulator binary (tests/node/compat.js): the
//! inpainting JSON body and every operation the SDK has, by image and by url.

mod support;

use std::path::Path;
use std::process::Command;

#[test]
fn official_node_sdk_works_against_the_emulator() {
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/node");
    assert!(
        node_dir
            .join("node_modules/baidu-aip-sdk/package.json")
            .is_file(),
        "the official Node SDK is missing: npm ci --prefix tests/node --omit=optional (bash .ci/run does this)"
    );
    let dir = tempfile::tempdir().unwrap();
    support::write_photos(dir.path());
    let server = support::Server::start(&["--api-key", "ak", "--secret-key", "sk"]);
    let out = Command::new("node")
        .arg(node_dir.join("compat.js"))
        .arg(&server.url)
        .arg(dir.path())
        .current_dir(&node_dir)
        .output()
        .expect("node is installed");
    drop(server);
    support::assert_compat_passed(&out);
}
