//! Building the clients' binaries with cargo before a race: `kiel` from the kiel
//! workspace, `rdkafka-perf` from this crate, both in release mode and in whatever target
//! folder the environment picks (`CARGO_TARGET_DIR` or the default). The executables' paths
//! are taken from cargo's JSON messages, so the target folder need not be guessed.
//!
//! # References
//! - Cargo book, "External tools: JSON messages" (`compiler-artifact`, `executable`)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The path of the executable named `binary` in cargo's `--message-format=json` output.
pub fn find_executable(json_lines: &str, binary: &str) -> Option<PathBuf> {
    json_lines
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .filter_map(|l| json_string_field(l, "executable"))
        .map(PathBuf::from)
        .find(|p| p.file_name().is_some_and(|n| n == binary))
}

/// The value of the string field `key` in one line of JSON (cargo escapes `"` and `\` in
/// strings; paths hold nothing else that needs unescaping).
fn json_string_field(line: &str, key: &str) -> Option<String> {
    let marker = format!("\"{key}\":\"");
    let start = line.find(&marker)? + marker.len();
    let mut value = String::new();
    let mut chars = line.get(start..)?.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            other => value.push(other),
        }
    }
    None
}

/// The cargo that runs this program (`$CARGO` under `cargo run`), else `cargo`.
pub fn cargo_program() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// Runs `cargo build --release` for `manifest` with `args`; cargo's progress goes to our
/// stderr. Returns the path of the executable named `binary`.
pub fn build(manifest: &Path, args: &[&str], binary: &str) -> Result<PathBuf, String> {
    let output = Command::new(cargo_program())
        .arg("build")
        .arg("--release")
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build --release --manifest-path {} {} failed ({})",
            manifest.display(),
            args.join(" "),
            output.status
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    find_executable(&stdout, binary)
        .ok_or_else(|| format!("cargo built no executable named `{binary}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_executable_is_found_among_the_artifacts() {
        let out = r#"{"reason":"compiler-artifact","package_id":"x","target":{"name":"kiel"},"executable":null,"fresh":true}
{"reason":"compiler-artifact","target":{"name":"rdkafka-perf"},"executable":"/t/release/rdkafka-perf","fresh":true}
{"reason":"compiler-artifact","target":{"name":"kiel"},"executable":"/w/my \"dir\"/release/kiel","fresh":false}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            find_executable(out, "kiel"),
            Some(PathBuf::from("/w/my \"dir\"/release/kiel"))
        );
        assert_eq!(
            find_executable(out, "rdkafka-perf"),
            Some(PathBuf::from("/t/release/rdkafka-perf"))
        );
        assert_eq!(find_executable(out, "race"), None);
        assert_eq!(find_executable("", "kiel"), None);
    }
}
