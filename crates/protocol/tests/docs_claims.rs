//! Claims `docs/architecture.md` makes about this crate, checked against the crate itself.

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names under `[dependencies]` of this crate's manifest.
fn dependencies() -> Vec<String> {
    let manifest = read("Cargo.toml");
    manifest
        .lines()
        .skip_while(|line| line.trim() != "[dependencies]")
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .filter_map(|line| line.split(['.', '=']).next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_architecture_doc_lists_every_dependency_of_the_protocol() {
    let doc = read("../../docs/architecture.md");
    let start = doc
        .find("The protocol crate depends only on pure crates")
        .expect("the paragraph on the protocol's dependencies");
    let end = start + doc[start..].find(')').expect("the list closes");
    let listed = &doc[start..end];
    let deps = dependencies();
    assert!(deps.len() >= 10, "parsed the manifest: {deps:?}");
    for dep in deps {
        assert!(
            listed.contains(&format!("`{dep}`"))
                || listed.contains(&format!("/{dep}`"))
                || listed.contains(&format!("`{dep}/")),
            "docs/architecture.md's list of the protocol's dependencies omits `{dep}`: {listed}"
        );
    }
}
