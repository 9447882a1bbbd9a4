//! `cargo xtask op-files [--max N] [--why]`: in how many non-test source files under `crates/*/src`
//! each operation is named (issue 23's "done means": at most five). An operation is named
//! by its enum variant (`Denoise`, also as a prefix of a type: `DenoiseArgs`), its wire
//! name as a whole word (`denoise`, `remove_moire`), its `bdip` subcommand name as a string
//! literal (`"demoire"`) or as a command variant (`Demoire(`, `Command::Demoire`).
//! A subcommand name that is also a wire parameter's name (`style`, the style image of
//! `customize_stylization`) is not matched as a string literal: the literal is the field.
//! Comments and the `#[cfg(test)] mod tests` at a file's end are not counted. Fails when
//! an operation is named in more than N files (default 5). `--why` prints the first line
//! that names the operation in each file.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use baidu_imageprocess_protocol::{Operation, optable};

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `needle` occurs in `text` with no identifier character before it and, after
/// it, a character `after_ok` accepts (or the end).
fn occurs(text: &str, needle: &str, after_ok: impl Fn(Option<char>) -> bool) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(is_ident) && after_ok(after)
    })
}

fn camel(name: &str) -> String {
    name.split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Whether `name` is some operation's wire parameter.
fn is_param_name(name: &str) -> bool {
    optable::table().any(|row| row.param(name).is_some())
}

/// Whether `code` names `op`.
fn names(code: &str, op: Operation) -> bool {
    let variant = format!("{op:?}");
    let cli_variant = camel(op.cli_name());
    let cli_literal =
        !is_param_name(op.cli_name()) && code.contains(&format!("\"{}\"", op.cli_name()));
    occurs(code, &variant, |c| {
        !c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }) || occurs(code, op.name(), |c| !c.is_some_and(is_ident))
        || cli_literal
        || occurs(code, &format!("{cli_variant}("), |_| true)
        || occurs(code, &format!("{cli_variant}Args"), |c| {
            !c.is_some_and(is_ident)
        })
        || code.contains(&format!("Command::{cli_variant}"))
}

/// A file's code: no comments, nothing from its trailing test module on.
fn code_of(text: &str) -> String {
    let text = [
        "#[cfg(test)]\nmod tests",
        "#[cfg(test)]\npub(crate) mod tests",
    ]
    .iter()
    .filter_map(|start| text.find(start))
    .min()
    .map_or(text, |at| &text[..at]);
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("//") {
                ""
            } else {
                // Naive, so rough: a `//` inside a string literal also ends the line.
                line.split(" //").next().unwrap_or("")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                rust_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs the task.
pub fn run(args: &[String]) -> Result<()> {
    let why = args.iter().any(|a| a == "--why");
    let args: Vec<&String> = args.iter().filter(|a| *a != "--why").collect();
    let max: usize = match args[..] {
        [] => 5,
        [flag, n] if flag == "--max" => n.parse()?,
        _ => bail!("usage: cargo xtask op-files [--max N] [--why]"),
    };
    let mut files = Vec::new();
    for krate in std::fs::read_dir("crates")? {
        let src = krate?.path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files)?;
        }
    }
    files.sort();
    let code: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)?;
            Ok((path, code_of(&text)))
        })
        .collect::<Result<_>>()?;
    let mut over = Vec::new();
    for op in Operation::ALL {
        let hits: Vec<String> = code
            .iter()
            .filter(|(_, code)| names(code, op))
            .map(|(path, _)| {
                path.strip_prefix("crates")
                    .unwrap_or(path)
                    .display()
                    .to_string()
            })
            .collect();
        println!("{:<26} {:>2}  {}", op.name(), hits.len(), hits.join(" "));
        if why {
            for (path, code) in code.iter().filter(|(_, code)| names(code, op)) {
                let line = code.lines().find(|line| names(line, op)).unwrap_or("");
                println!("    {}: {}", path.display(), line.trim());
            }
        }
        if hits.len() > max {
            over.push(op.name());
        }
    }
    if !over.is_empty() {
        bail!("named in more than {max} files: {}", over.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_by_variant_wire_and_cli_name() {
        assert!(names("Params::Denoise(x)", Operation::Denoise));
        assert!(names("struct DenoiseArgs;", Operation::Denoise));
        assert!(names("mod remove_moire;", Operation::RemoveMoire));
        assert!(names("(\"demoire\", x)", Operation::RemoveMoire));
        assert!(names("Demoire(ProcessArgs)", Operation::RemoveMoire));
        assert!(!names("let denoised = 1;", Operation::Denoise));
        assert!(!names("Dehazed", Operation::Dehaze));
        assert!(!names(
            &code_of("// dehaze\nlet x = 1; // dehaze"),
            Operation::Dehaze
        ));
        assert_eq!(code_of("a\n#[cfg(test)]\nmod tests { dehaze }"), "a");
        assert_eq!(code_of("a\n#[cfg(test)]\npub(crate) mod tests { x }"), "a");
        // `style` is customize_stylization's style image as a field, not style_trans.
        assert!(!names("fields: [\"style\"]", Operation::StyleTrans));
        assert!(names("fields: [\"demoire\"]", Operation::RemoveMoire));
    }
}
