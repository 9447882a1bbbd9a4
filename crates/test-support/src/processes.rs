//! Server binaries started as child processes for a test.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

/// Spawns `cmd`, a server told to listen on port 0, with stdout piped, and reads the line it
/// announces itself with, `listening on URL`. Returns the child (the caller stops it) and
/// the URL (`http://HOST:PORT`).
pub fn spawn_listening(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("not a `listening on` line: {line:?}"))
        .to_owned();
    (child, url)
}
