//! The download cache: a runnable Apache Kafka collected from Maven Central with `mvn`, once
//! per release, into `<cache>/<version>/`.
//!
//! Layout of one release's folder:
//! - `libs/`: every runtime jar of the broker (`kafka_2.13`) and the tools (`kafka-tools`),
//!   plus the slf4j logging binding the published POMs leave out;
//! - `storage-template/`: what `kafka.tools.StorageTool format` writes into an empty data
//!   folder for this release (`meta.properties` and the bootstrap metadata, whose file
//!   differs between releases). Nodes are formatted by copying it and writing their own
//!   `meta.properties`, which saves one JVM launch per node (see [`crate::storage`]).
//!
//! The folder is built under a staging name and renamed into place, so it either exists
//! complete or not at all. An `flock` on `<cache>/<version>.lock` makes a second process
//! (or thread) wait for the first download instead of racing it.
//!
//! # References
//! - maven-dependency-plugin `copy-dependencies`:
//!   <https://maven.apache.org/plugins/maven-dependency-plugin/copy-dependencies-mojo.html>
//! - `shared/design/kafka-harness/NOTES.md` section 1 (artifacts, the logging-binding catch)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{HarnessError, Result};
use crate::java::{JavaRuntime, JvmLauncher};
use crate::lock::FileLock;
use crate::resources;
use crate::version::{KafkaVersion, LoggingBackend};

/// The environment variable naming the cache folder.
pub const CACHE_ENV: &str = "KIEL_KAFKA_CACHE";

/// The environment variable naming the `mvn` program (default: `mvn` on `PATH`).
pub const MAVEN_ENV: &str = "KIEL_MVN";

/// The maven-dependency-plugin release used for `copy-dependencies`.
const DEPENDENCY_PLUGIN: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

/// The log4j2 release added for 4.x releases whose own POMs bring no log4j-core (4.0.x).
const FALLBACK_LOG4J2: &str = "2.24.3";

/// The cache folder: `$KIEL_KAFKA_CACHE`, else `$XDG_CACHE_HOME/kiel/kafka`, else
/// `$HOME/.cache/kiel/kafka`, else `<temp>/kiel-kafka-cache`.
pub fn default_cache_dir() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty(CACHE_ENV) {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = non_empty("XDG_CACHE_HOME") {
        return Path::new(&xdg).join("kiel").join("kafka");
    }
    if let Some(home) = non_empty("HOME") {
        return Path::new(&home).join(".cache").join("kiel").join("kafka");
    }
    std::env::temp_dir().join("kiel-kafka-cache")
}

/// One downloaded, ready-to-run Kafka release.
#[derive(Debug, Clone)]
pub struct KafkaDistribution {
    version: KafkaVersion,
    home: PathBuf,
    launcher: JvmLauncher,
}

impl KafkaDistribution {
    /// The release.
    pub fn version(&self) -> &KafkaVersion {
        &self.version
    }

    /// The release's folder in the cache.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The folder holding every jar.
    pub fn libs_dir(&self) -> PathBuf {
        self.home.join("libs")
    }

    /// The formatted-storage template (see the module docs).
    pub(crate) fn storage_template(&self) -> PathBuf {
        self.home.join("storage-template")
    }

    /// How to launch JVMs from this distribution.
    pub(crate) fn launcher(&self) -> &JvmLauncher {
        &self.launcher
    }

    /// Makes sure `version` is in `cache_dir`, downloading it with Maven if needed, and
    /// returns it. Blocks (run it off the async runtime). Safe to call from several
    /// processes at once.
    pub(crate) fn ensure(
        version: &KafkaVersion,
        cache_dir: &Path,
        java: &JavaRuntime,
        maven: Option<&Path>,
    ) -> Result<Self> {
        let home = cache_dir.join(version.to_string());
        let dist = Self {
            version: version.clone(),
            launcher: JvmLauncher {
                java: java.clone(),
                libs_dir: home.join("libs"),
                logging: version.logging(),
            },
            home,
        };
        if dist.home.is_dir() {
            return Ok(dist);
        }
        std::fs::create_dir_all(cache_dir).map_err(|e| {
            HarnessError::io(format!("creating cache folder {}", cache_dir.display()), e)
        })?;
        let _lock = FileLock::acquire(&cache_dir.join(format!("{version}.lock")))?;
        // Another process may have finished the download while this one waited.
        if dist.home.is_dir() {
            return Ok(dist);
        }
        remove_stale_staging(cache_dir, version);
        let staging = cache_dir.join(format!(
            ".staging-{version}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let maven = maven.map_or_else(maven_program, Path::to_path_buf);
        let built = build_into(&staging, &dist, &maven);
        if let Err(e) = built {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        std::fs::rename(&staging, &dist.home).map_err(|e| {
            HarnessError::io(
                format!(
                    "moving {} into place as {}",
                    staging.display(),
                    dist.home.display()
                ),
                e,
            )
        })?;
        Ok(dist)
    }
}

/// Staging folders of this version left by a process that died mid-download. Only called
/// with the version's lock held, so none of them is in use.
fn remove_stale_staging(cache_dir: &Path, version: &KafkaVersion) {
    let prefix = format!(".staging-{version}-");
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn build_into(staging: &Path, dist: &KafkaDistribution, maven: &Path) -> Result<()> {
    let version = &dist.version;
    let libs = staging.join("libs");
    std::fs::create_dir_all(&libs)
        .map_err(|e| HarnessError::io(format!("creating {}", libs.display()), e))?;

    let pom = staging.join("kafka-pom.xml");
    write(
        &pom,
        &resources::KAFKA_POM.replace("@KAFKA_VERSION@", &version.to_string()),
    )?;
    run_maven(maven, &pom, &libs, false, version, staging)?;

    let missing = missing_logging_jars(&libs, version)?;
    if !missing.is_empty() {
        let deps: String = missing
            .iter()
            .map(|(group, artifact, v)| {
                format!(
                    "    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>\
                     <version>{v}</version></dependency>\n"
                )
            })
            .collect();
        let logging_pom = staging.join("logging-pom.xml");
        write(
            &logging_pom,
            &resources::LOGGING_POM.replace("@DEPENDENCIES@", &deps),
        )?;
        run_maven(maven, &logging_pom, &libs, true, version, staging)?;
    }

    // Format a throwaway node once; nodes copy the result (see `storage`).
    let launcher = JvmLauncher {
        libs_dir: libs,
        ..dist.launcher.clone()
    };
    crate::storage::format_template(&launcher, &staging.join("storage-template"), staging)
}

pub(crate) fn maven_program() -> PathBuf {
    match std::env::var_os(MAVEN_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from("mvn"),
    }
}

fn run_maven(
    maven: &Path,
    pom: &Path,
    libs: &Path,
    exclude_transitive: bool,
    version: &KafkaVersion,
    staging: &Path,
) -> Result<()> {
    let log = staging.join("maven.log");
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| HarnessError::io(format!("creating {}", log.display()), e))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| HarnessError::io("duplicating a file handle", e))?;
    let mut cmd = Command::new(maven);
    cmd.arg("-B")
        .arg("-q")
        .arg("-f")
        .arg(pom)
        .arg(format!("{DEPENDENCY_PLUGIN}:copy-dependencies"))
        .arg(format!("-DoutputDirectory={}", libs.display()))
        .arg("-DincludeScope=runtime");
    if exclude_transitive {
        cmd.arg("-DexcludeTransitive=true");
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err));
    let status = cmd.status().map_err(|e| HarnessError::NoBroker {
        reason: format!(
            "Kafka {version} is not in the cache yet and Maven ({}) cannot be run ({e}); \
             Maven downloads it once from Maven Central",
            maven.display()
        ),
    })?;
    if !status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(HarnessError::Download {
            version: version.to_string(),
            detail: format!(
                "{} exited with {status}:\n{}",
                maven.display(),
                crate::logs::tail_lines(&text, 15)
            ),
        });
    }
    Ok(())
}

/// The logging jars (group, artifact, version) that `libs` lacks for `version`'s backend.
fn missing_logging_jars(
    libs: &Path,
    version: &KafkaVersion,
) -> Result<Vec<(&'static str, &'static str, String)>> {
    let names: Vec<String> = std::fs::read_dir(libs)
        .map_err(|e| HarnessError::io(format!("listing {}", libs.display()), e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let jar_version = |artifact: &str| -> Option<String> {
        let prefix = format!("{artifact}-");
        names.iter().find_map(|n| {
            let rest = n.strip_prefix(&prefix)?.strip_suffix(".jar")?;
            rest.starts_with(|c: char| c.is_ascii_digit())
                .then(|| rest.to_owned())
        })
    };
    let mut missing = Vec::new();
    match version.logging() {
        LoggingBackend::Log4j2 => {
            // 4.1+ brings log4j-api/core through kafka-server; match the binding to them.
            let log4j = jar_version("log4j-core").unwrap_or_else(|| FALLBACK_LOG4J2.to_owned());
            for artifact in ["log4j-api", "log4j-core", "log4j-slf4j-impl"] {
                if jar_version(artifact).is_none() {
                    missing.push(("org.apache.logging.log4j", artifact, log4j.clone()));
                }
            }
        }
        LoggingBackend::Reload4j => {
            // kafka-tools 3.9 brings both; add them if a release does not.
            if jar_version("slf4j-reload4j").is_none() {
                missing.push(("org.slf4j", "slf4j-reload4j", "1.7.36".to_owned()));
            }
            if jar_version("reload4j").is_none() {
                missing.push(("ch.qos.reload4j", "reload4j", "1.2.25".to_owned()));
            }
        }
    }
    Ok(missing)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_jars_are_added_only_when_missing() {
        let dir = std::env::temp_dir().join(format!("kiel-cache-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let v41 = KafkaVersion::parse("4.1.2").unwrap();
        std::fs::write(dir.join("log4j-core-2.25.3.jar"), b"").unwrap();
        std::fs::write(dir.join("log4j-api-2.25.3.jar"), b"").unwrap();
        std::fs::write(dir.join("log4j-1.2-api-2.25.3.jar"), b"").unwrap();
        let missing = missing_logging_jars(&dir, &v41).unwrap();
        assert_eq!(
            missing,
            vec![(
                "org.apache.logging.log4j",
                "log4j-slf4j-impl",
                "2.25.3".to_owned()
            )]
        );
        let v39 = KafkaVersion::parse("3.9.1").unwrap();
        std::fs::write(dir.join("reload4j-1.2.25.jar"), b"").unwrap();
        let missing = missing_logging_jars(&dir, &v39).unwrap();
        assert_eq!(
            missing,
            vec![("org.slf4j", "slf4j-reload4j", "1.7.36".to_owned())]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
