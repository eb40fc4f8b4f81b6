//! The Schema Registry's download cache: Apicurio Registry's ready-to-run Quarkus application
//! (`io.apicurio:apicurio-registry-app:<version>:tar.gz:all`, about 160 MB), unpacked by
//! Maven once into `<cache>/apicurio-registry-<version>/` beside the Kafka releases.
//!
//! As for Kafka ([`crate::KafkaDistribution`]): the folder is unpacked under a staging name
//! and renamed into place, so it exists complete or not at all, and an `flock` on
//! `<cache>/apicurio-registry-<version>.lock` makes a second process wait for the first
//! download instead of racing it.
//!
//! # References
//! - maven-dependency-plugin `unpack`:
//!   <https://maven.apache.org/plugins/maven-dependency-plugin/unpack-mojo.html>
//! - `shared/design/schema-registry/NOTES.md` (the artifact, the fast-jar layout, timings)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{HarnessError, Result};
use crate::lock::FileLock;

/// The POM that unpacks the registry (`@APICURIO_VERSION@`, `@OUTPUT_DIR@` to replace).
const APICURIO_POM: &str = include_str!("../../resources/apicurio-pom.xml");

/// The launcher of a Quarkus fast-jar application.
const RUN_JAR: &str = "quarkus-run.jar";

/// An unpacked Apicurio Registry in the cache.
#[derive(Debug, Clone)]
pub(crate) struct RegistryDistribution {
    home: PathBuf,
}

impl RegistryDistribution {
    /// The jar to run with `java -jar`.
    pub(crate) fn run_jar(&self) -> PathBuf {
        self.home.join(RUN_JAR)
    }

    /// The release's folder.
    pub(crate) fn home(&self) -> &Path {
        &self.home
    }

    /// Makes sure Apicurio Registry `version` is unpacked in `cache_dir`, downloading it
    /// with Maven if needed. Blocks (run it off the async runtime). Safe to call from
    /// several processes at once.
    pub(crate) fn ensure(version: &str, cache_dir: &Path, maven: &Path) -> Result<Self> {
        let name = format!("apicurio-registry-{version}");
        let dist = Self {
            home: cache_dir.join(&name),
        };
        if dist.run_jar().is_file() {
            return Ok(dist);
        }
        std::fs::create_dir_all(cache_dir).map_err(|e| {
            HarnessError::io(format!("creating cache folder {}", cache_dir.display()), e)
        })?;
        let _lock = FileLock::acquire(&cache_dir.join(format!("{name}.lock")))?;
        // Another process may have finished the download while this one waited.
        if dist.run_jar().is_file() {
            return Ok(dist);
        }
        let prefix = format!(".staging-{name}-");
        remove_stale_staging(cache_dir, &prefix);
        // An incomplete folder cannot exist (rename below), but a hand-made one might.
        if dist.home.exists() {
            return Err(HarnessError::NoRegistry {
                reason: format!(
                    "{} exists but holds no {RUN_JAR}; remove it to download Apicurio \
                     Registry {version} again",
                    dist.home.display()
                ),
            });
        }
        let staging = cache_dir.join(format!(
            "{prefix}{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let unpacked = unpack_into(&staging, version, maven);
        let moved = unpacked.and_then(|app| {
            std::fs::rename(&app, &dist.home).map_err(|e| {
                HarnessError::io(
                    format!(
                        "moving {} into place as {}",
                        app.display(),
                        dist.home.display()
                    ),
                    e,
                )
            })
        });
        let _ = std::fs::remove_dir_all(&staging);
        moved.map(|()| dist)
    }
}

/// Staging folders left by a process that died mid-download. Only called with the lock
/// held, so none of them is in use.
fn remove_stale_staging(cache_dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs Maven in `staging` to unpack the registry; returns the folder holding
/// `quarkus-run.jar`.
fn unpack_into(staging: &Path, version: &str, maven: &Path) -> Result<PathBuf> {
    let app = staging.join("app");
    std::fs::create_dir_all(&app)
        .map_err(|e| HarnessError::io(format!("creating {}", app.display()), e))?;
    let pom = staging.join("apicurio-pom.xml");
    let text = APICURIO_POM
        .replace("@APICURIO_VERSION@", version)
        .replace("@OUTPUT_DIR@", &xml_escape(&app.display().to_string()));
    std::fs::write(&pom, text)
        .map_err(|e| HarnessError::io(format!("writing {}", pom.display()), e))?;
    let log = staging.join("maven.log");
    let log_file = std::fs::File::create(&log)
        .map_err(|e| HarnessError::io(format!("creating {}", log.display()), e))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| HarnessError::io("duplicating a file handle", e))?;
    let status = Command::new(maven)
        .arg("-B")
        .arg("-q")
        .arg("-f")
        .arg(&pom)
        .arg("package")
        .current_dir(staging)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err))
        .status()
        .map_err(|e| HarnessError::NoRegistry {
            reason: format!(
                "Apicurio Registry {version} is not in the cache yet and Maven ({}) cannot be \
                 run ({e}); Maven downloads it once from Maven Central",
                maven.display()
            ),
        })?;
    if !status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(HarnessError::NoRegistry {
            reason: format!(
                "downloading Apicurio Registry {version} with Maven failed: {} exited with \
                 {status}:\n{}",
                maven.display(),
                crate::logs::tail_lines(&text, 15)
            ),
        });
    }
    // The tarball has no top folder today; accept one in case a release adds it.
    if app.join(RUN_JAR).is_file() {
        return Ok(app);
    }
    let nested = std::fs::read_dir(&app)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join(RUN_JAR).is_file());
    nested.ok_or_else(|| HarnessError::NoRegistry {
        reason: format!(
            "Maven unpacked io.apicurio:apicurio-registry-app:{version}:tar.gz:all into {}, \
             but there is no {RUN_JAR} in it",
            app.display()
        ),
    })
}

/// `text` with the characters XML gives a meaning escaped.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pom_names_the_artifact_and_the_folder() {
        let text = APICURIO_POM
            .replace("@APICURIO_VERSION@", "3.3.3")
            .replace("@OUTPUT_DIR@", &xml_escape("/tmp/a&b/app"));
        assert!(text.contains("<artifactId>apicurio-registry-app</artifactId>"));
        assert!(text.contains("<version>3.3.3</version>"));
        assert!(text.contains("<classifier>all</classifier>"));
        assert!(text.contains("<type>tar.gz</type>"));
        assert!(text.contains("<outputDirectory>/tmp/a&amp;b/app</outputDirectory>"));
        assert!(!text.contains('@'), "a placeholder is left: {text}");
    }

    #[test]
    fn a_missing_maven_is_a_clear_error() {
        let cache = std::env::temp_dir().join(format!(
            "kiel-registry-cache-test-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let err = RegistryDistribution::ensure("3.3.3", &cache, Path::new("/nonexistent/kiel/mvn"))
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, HarnessError::NoRegistry { .. }), "{err:?}");
        for needle in ["/nonexistent/kiel/mvn", "Maven Central", "Java 21"] {
            assert!(text.contains(needle), "{needle:?} missing from: {text}");
        }
        // Nothing half-made is left behind.
        let left: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| !n.to_string_lossy().ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
