//! Writing one `## Section` of a Markdown file without touching the others.

use std::path::Path;

use anyhow::Result;

/// Replaces the body of `## {heading}` in `path` (up to the next `## `) with `body`.
pub fn replace_section(path: &Path, heading: &str, body: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let marker = format!("## {heading}");
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    let mut found = false;
    while let Some(line) = lines.next() {
        if line.trim_end() == marker {
            found = true;
            out.push_str(line);
            out.push_str("\n\n");
            out.push_str(body.trim());
            out.push_str("\n\n");
            while lines.peek().is_some_and(|l| !l.starts_with("## ")) {
                lines.next();
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !found {
        out.push_str(&format!("\n{marker}\n\n{}\n", body.trim()));
    }
    std::fs::write(path, out)?;
    Ok(())
}
