//! The official Python SDK and curl against the emulator binary (tests/python/compat.py):
//! every method of `AipImageProcess`, JPEG and PNG, url variants and parameter errors.

mod support;

use std::path::Path;
use std::process::Command;

#[test]
fn official_python_sdk_works_against_the_emulator() {
    let has_sdk = Command::new("python3")
        .args(["-c", "import aip"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_sdk,
        "the official SDK is missing: python3 -m pip install baidu-aip==4.16.13 chardet (bash .ci/run does this)"
    );
    let dir = tempfile::tempdir().unwrap();
    support::write_photos(dir.path());
    let server = support::Server::start(&["--api-key", "ak", "--secret-key", "sk"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/compat.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&server.url)
        .arg(dir.path())
        .output()
        .unwrap();
    drop(server);
    support::assert_compat_passed(&out);
}
