//! Building the clients' binaries before a race: `kiel` from the kiel workspace,
//! `rdkafka-perf`, `kacrab-perf`, `krafka-perf` and `confluent-perf` from this crate, all
//! with cargo in release mode and in whatever target folder the environment picks
//! (`CARGO_TARGET_DIR` or the default; the executables' paths are taken from cargo's JSON
//! messages, so the target folder need not be guessed), and `franz-perf` with `go build`.
//! A failed build's message is its first error line, for the report.
//!
//! # References
//! - Cargo book, "External tools: JSON messages" (`compiler-artifact`, `executable`)

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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

/// The line of a failed build's output that says why: the first that starts with `error`
/// (cargo's and rustc's), else the first that is not empty.
pub fn first_error_line(output: &str) -> Option<String> {
    let lines = || output.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| l.starts_with("error") || l.starts_with("ERROR"))
        .or_else(|| lines().next())
        .map(str::to_owned)
}

/// Waits for `child`, copying its stderr to ours line by line as it comes (so a long
/// build shows its progress) and keeping it; returns (success, stdout, stderr).
fn run_teeing(mut child: Child) -> Result<(bool, String, String), String> {
    let stderr = child.stderr.take();
    let copier = std::thread::spawn(move || {
        let mut kept = String::new();
        if let Some(stderr) = stderr {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                kept.push_str(&line);
                kept.push('\n');
            }
        }
        kept
    });
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the build: {e}"))?;
    let stderr = copier.join().unwrap_or_default();
    Ok((status.success(), stdout, stderr))
}

/// Runs `cargo build --release` for `manifest` with `args`; cargo's progress goes to our
/// stderr. Returns the path of the executable named `binary`, or the build's first error
/// line.
pub fn build(manifest: &Path, args: &[&str], binary: &str) -> Result<PathBuf, String> {
    let child = Command::new(cargo_program())
        .arg("build")
        .arg("--release")
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let (success, stdout, stderr) = run_teeing(child)?;
    if !success {
        return Err(format!(
            "cargo build failed: {}",
            first_error_line(&stderr).unwrap_or_else(|| "no message".to_owned())
        ));
    }
    find_executable(&stdout, binary)
        .ok_or_else(|| format!("cargo built no executable named `{binary}`"))
}

/// The target folder cargo uses for the crate in `crate_dir`: `CARGO_TARGET_DIR`, else
/// `crate_dir/target`.
pub fn target_dir(crate_dir: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => crate_dir.join("target"),
    }
}

/// Runs `go build -o output` in the Go module folder `dir`; its output goes to our stderr.
/// Returns `output`, or why there is none.
pub fn go_build(dir: &Path, output: &Path) -> Result<PathBuf, String> {
    if !dir.join("go.mod").is_file() {
        return Err(format!("{} has no go.mod", dir.display()));
    }
    let go = std::env::var_os("GO").map_or_else(|| PathBuf::from("go"), PathBuf::from);
    let child = Command::new(&go)
        .arg("build")
        .arg("-o")
        .arg(output)
        .arg(".")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", go.display()))?;
    let (success, stdout, stderr) = run_teeing(child)?;
    if !success {
        return Err(format!(
            "go build in {} failed: {}",
            dir.display(),
            first_error_line(&format!("{stderr}{stdout}"))
                .unwrap_or_else(|| "no message".to_owned())
        ));
    }
    Ok(output.to_path_buf())
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

    #[test]
    fn a_failed_build_says_why_in_one_line() {
        let cargo = "    Updating crates.io index\nerror: no bin target named `kacrab-perf` in default-run packages\nhelp: available bin targets:\n";
        assert_eq!(
            first_error_line(cargo).as_deref(),
            Some("error: no bin target named `kacrab-perf` in default-run packages")
        );
        assert_eq!(
            first_error_line("\n  go: cannot find main module\n").as_deref(),
            Some("go: cannot find main module")
        );
        assert_eq!(first_error_line(""), None);
    }

    #[test]
    fn go_build_without_a_module_is_refused() {
        let dir = std::env::temp_dir().join(format!("kiel-race-go-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = go_build(&dir, &dir.join("out")).unwrap_err();
        assert!(err.contains("has no go.mod"), "{err}");
    }
}
