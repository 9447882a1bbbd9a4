//! The protocol crate's layers hold: no module imports a module of a higher layer, no two
//! modules import each other (directly or round a longer circle), and every source file
//! has a layer. Reads the sources' `crate::` paths outside test code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every module of the crate and its layer (see the crate docs and
/// `docs/architecture.md`). A new file must be added here, at the layer of what it
/// imports.
const LAYERS: &[(&str, u8)] = &[
    // L0, vocabulary.
    ("code", 0),
    ("format", 0),
    ("log_id", 0),
    ("operation", 0),
    ("recycle", 0),
    ("rect", 0),
    ("secret", 0),
    ("transport", 0),
    ("transport_config", 0),
    ("violation", 0),
    // L1, facts.
    ("endpoint", 1),
    ("limits", 1),
    ("optable", 1),
    ("params", 1),
    ("request", 1),
    // L2, meaning and the wire.
    ("classify", 2),
    ("error", 2),
    ("wire", 2),
    ("wire::decode_request", 2),
    ("wire::encode", 2),
    ("wire::form", 2),
    ("wire::reply", 2),
    ("wire::token", 2),
    // L3, authentication and policy.
    ("auth", 3),
    ("auth::authorize", 3),
    ("auth::credentials", 3),
    ("auth::sign", 3),
    ("auth::token_cache", 3),
    ("policy", 3),
    ("policy::budget", 3),
    ("policy::config", 3),
    ("policy::rate", 3),
    // L4, the call machines.
    ("machine", 4),
    ("machine::call", 4),
    ("machine::drive", 4),
    ("machine::session", 4),
    ("machine::shared", 4),
    ("machine::step", 4),
    ("machine::token_call", 4),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `wire/form.rs` → `wire::form`; `wire/mod.rs` → `wire`.
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(src()).expect("under src/");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code outside `#[cfg(test)]` items and comments. Test modules sit at the end of
/// each file, so everything from the first `#[cfg(test)]` on is dropped.
fn library_code(text: &str) -> String {
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..end]
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a piece of code names through `crate::a::b::...` paths (the longest
/// prefix that is a known module), and any path the check cannot place.
fn imports(code: &str, known: &BTreeMap<&str, u8>) -> (BTreeSet<String>, Vec<String>) {
    let mut found = BTreeSet::new();
    let mut unplaced = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let module = (1..=segments.len())
            .rev()
            .map(|n| segments[..n].join("::"))
            .find(|m| known.contains_key(m.as_str()));
        match module {
            Some(m) => {
                found.insert(m);
            }
            // `crate::Name` (a root re-export) or `crate::{...}` hides the layer.
            None => unplaced.push(format!("crate::{path}")),
        }
    }
    if code.contains("use super::") {
        unplaced.push("use super::".to_owned());
    }
    (found, unplaced)
}

#[test]
fn no_module_imports_a_higher_layer_or_a_circle() {
    let known: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in &files {
        let module = module_of(file);
        if module == "lib" {
            continue;
        }
        let Some(&layer) = known.get(module.as_str()) else {
            problems.push(format!("{module}: not in the layer map of tests/layers.rs"));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable source");
        let (used, unplaced) = imports(&library_code(&text), &known);
        for path in unplaced {
            problems.push(format!(
                "{module}: `{path}` names no module; import through the defining module"
            ));
        }
        for target in &used {
            if *target == module {
                continue;
            }
            let target_layer = known[target.as_str()];
            if target_layer > layer {
                problems.push(format!(
                    "{module} (L{layer}) imports {target} (L{target_layer}), a higher layer"
                ));
            }
        }
        graph.insert(module, used);
    }
    for (module, _) in LAYERS {
        if !graph.contains_key(*module) && !problems.iter().any(|p| p.starts_with(module)) {
            problems.push(format!("{module}: in the layer map but no such file"));
        }
    }
    if let Some(circle) = find_circle(&graph) {
        problems.push(format!("modules import each other: {}", circle.join(" → ")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A circle of imports, if there is one, as the modules along it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if next != node
                && let Some(circle) = visit(next, graph, done, path)
            {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

#[test]
fn the_check_sees_imports_and_circles() {
    let known: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let code = "use crate::wire::form::{FormWriter};\nlet x = crate::machine::step::Step::Done;\nuse crate::Error;";
    let (found, unplaced) = imports(code, &known);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["machine::step", "wire::form"]
    );
    assert_eq!(unplaced, ["crate::Error"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        find_circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert!(
        library_code("use crate::a;\n// crate::b\n#[cfg(test)]\nuse crate::c;")
            .contains("crate::a")
    );
    assert!(
        !library_code("use crate::a;\n// crate::b\n#[cfg(test)]\nuse crate::c;")
            .contains("crate::c")
    );
}
