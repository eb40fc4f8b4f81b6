//! Formatting a KRaft node's data folder.
//!
//! `kafka.tools.StorageTool format -t <cluster id> -c <config>` writes into each empty log
//! folder `meta.properties` (`version=1`, `cluster.id`, `node.id`, `directory.id`) and the
//! release's bootstrap metadata (its metadata version and feature levels, the same for
//! every node). Where the bootstrap metadata goes depends on the release: up to 4.3 a
//! `bootstrap.checkpoint` file; 4.4 writes it as the first snapshot of the metadata log
//! instead (`__cluster_metadata-0/00000000000000000000-0000000000.checkpoint`). So a
//! format counts as done when the tool exits with success and `meta.properties`, the file
//! every broker reads first, is there; whatever else the template holds is copied as it is.
//!
//! The harness runs StorageTool once per release into a template when it downloads the
//! release (see [`crate::cache`]), and formats each node by copying the template and
//! writing the node's own `meta.properties`: one JVM launch (about a second) saved per
//! node and per cluster start.
//!
//! # References
//! - Kafka `core/src/main/scala/kafka/tools/StorageTool.scala` (format),
//!   `metadata/.../properties/MetaProperties.java` (the keys of `meta.properties`)
//! - `clients/.../common/Uuid.java` (random ids: 16 bytes, base64url without padding)

use std::path::Path;
use std::process::Stdio;

use crate::error::{HarnessError, Result};
use crate::java::{HeapSize, JvmLauncher};
use crate::resources;

const META_PROPERTIES: &str = "meta.properties";

/// Runs StorageTool once into `template` (created) for the release `launcher` runs.
/// `work_dir` receives the configuration and the tool's output.
pub(crate) fn format_template(
    launcher: &JvmLauncher,
    template: &Path,
    work_dir: &Path,
) -> Result<()> {
    run_format(launcher, template, work_dir, &[], &[], "storage-format")
}

/// Runs StorageTool into `template` (created) with SCRAM credentials in its bootstrap
/// metadata: `scram_arguments` are `--add-scram` pairs (see
/// [`crate::security::add_scram_arguments`]). Used for secured clusters, whose nodes copy
/// this template instead of the release's. `jvm_options` are added to the tool's JVM (the
/// class-data archive).
pub(crate) fn format_template_with_scram(
    launcher: &JvmLauncher,
    template: &Path,
    work_dir: &Path,
    scram_arguments: &[String],
    jvm_options: &[String],
) -> Result<()> {
    run_format(
        launcher,
        template,
        work_dir,
        scram_arguments,
        jvm_options,
        "storage-format-scram",
    )
}

fn run_format(
    launcher: &JvmLauncher,
    template: &Path,
    work_dir: &Path,
    extra_arguments: &[String],
    jvm_options: &[String],
    label: &str,
) -> Result<()> {
    let config = work_dir.join(format!("{label}-server.properties"));
    let text = format!(
        "process.roles=broker,controller\n\
         node.id=1\n\
         controller.quorum.voters=1@127.0.0.1:9\n\
         listeners=PLAINTEXT://127.0.0.1:8,CONTROLLER://127.0.0.1:9\n\
         advertised.listeners=PLAINTEXT://127.0.0.1:8\n\
         inter.broker.listener.name=PLAINTEXT\n\
         controller.listener.names=CONTROLLER\n\
         listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
         log.dirs={}\n",
        template.display()
    );
    write(&config, &text)?;
    let log_config = work_dir.join("tools-log.properties");
    write(&log_config, resources::tools_log_config(launcher.logging))?;
    let output = work_dir.join(format!("{label}.log"));
    let out = std::fs::File::create(&output)
        .map_err(|e| HarnessError::io(format!("creating {}", output.display()), e))?;
    let err = out
        .try_clone()
        .map_err(|e| HarnessError::io("duplicating a file handle", e))?;
    let mut options = crate::tools::tool_jvm_options();
    options.extend_from_slice(jvm_options);
    let mut cmd = launcher.command(
        "kafka.tools.StorageTool",
        &HeapSize::TOOL,
        &log_config,
        &options,
    );
    cmd.arg("format")
        .arg("-t")
        .arg(random_kafka_uuid())
        .arg("-c")
        .arg(&config)
        .args(extra_arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    let status = cmd.status().map_err(|e| HarnessError::NoBroker {
        reason: format!("cannot run {} ({e})", launcher.java.program.display()),
    })?;
    let formatted = template.join(META_PROPERTIES).is_file();
    if !status.success() || !formatted {
        let status = if status.success() {
            format!("{status}, but it wrote no {META_PROPERTIES}")
        } else {
            status.to_string()
        };
        return Err(HarnessError::ToolFailed {
            tool: "kafka.tools.StorageTool format".to_owned(),
            status,
            stderr_tail: crate::logs::tail_file(&output, 20),
            output,
        });
    }
    Ok(())
}

/// Formats `data_dir` (created) for node `node_id` of cluster `cluster_id` by copying the
/// release's `template` and writing a fresh `meta.properties`.
pub(crate) fn format_node(
    template: &Path,
    data_dir: &Path,
    cluster_id: &str,
    node_id: i32,
) -> Result<()> {
    copy_tree(template, data_dir)?;
    let meta = format!(
        "#Written by kiel-testcontainers, as kafka.tools.StorageTool format would\n\
         version=1\n\
         cluster.id={cluster_id}\n\
         node.id={node_id}\n\
         directory.id={}\n",
        random_kafka_uuid()
    );
    write(&data_dir.join(META_PROPERTIES), &meta)
}

/// Copies every file and folder under `from` except the top-level `meta.properties` (and
/// a `.lock`) into `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)
        .map_err(|e| HarnessError::io(format!("creating {}", to.display()), e))?;
    let entries = std::fs::read_dir(from)
        .map_err(|e| HarnessError::io(format!("listing {}", from.display()), e))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| HarnessError::io(format!("listing {}", from.display()), e))?;
        let name = entry.file_name();
        if name == META_PROPERTIES || name == ".lock" {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        if source.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).map_err(|e| {
                HarnessError::io(
                    format!("copying {} to {}", source.display(), target.display()),
                    e,
                )
            })?;
        }
    }
    Ok(())
}

/// A random id as Kafka's `Uuid.randomUuid()` makes them: 16 random bytes in base64url
/// without padding (22 characters), never one of the reserved ids (all zero bytes, or
/// zero bytes ending in 1) and never starting with `-`.
pub(crate) fn random_kafka_uuid() -> String {
    loop {
        let bytes: [u8; 16] = rand::random();
        let reserved = bytes[..15].iter().all(|b| *b == 0) && bytes[15] <= 1;
        let text = base64url_no_pad(&bytes);
        if !reserved && !text.starts_with('-') {
            return text;
        }
    }
}

pub(crate) fn base64url_no_pad(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_known_encodings() {
        // RFC 4648 test vectors, URL alphabet, no padding.
        assert_eq!(base64url_no_pad(b""), "");
        assert_eq!(base64url_no_pad(b"f"), "Zg");
        assert_eq!(base64url_no_pad(b"fo"), "Zm8");
        assert_eq!(base64url_no_pad(b"foo"), "Zm9v");
        assert_eq!(base64url_no_pad(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_no_pad(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_no_pad(&[0u8; 16]), "AAAAAAAAAAAAAAAAAAAAAA");
    }

    #[test]
    fn random_ids_have_kafka_shape() {
        for _ in 0..200 {
            let id = random_kafka_uuid();
            assert_eq!(id.len(), 22);
            assert!(!id.starts_with('-'));
            assert!(id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        }
        assert_ne!(random_kafka_uuid(), random_kafka_uuid());
    }

    #[test]
    fn nodes_get_the_template_and_their_own_meta_properties() {
        let root = std::env::temp_dir().join(format!("kiel-storage-test-{}", std::process::id()));
        let template = root.join("template");
        std::fs::create_dir_all(template.join("sub")).unwrap();
        std::fs::write(template.join("bootstrap.checkpoint"), b"\x00\x01binary").unwrap();
        std::fs::write(template.join("sub").join("x"), b"x").unwrap();
        // 4.4's layout: the bootstrap metadata as the first metadata-log snapshot.
        let log = template.join("__cluster_metadata-0");
        std::fs::create_dir_all(&log).unwrap();
        std::fs::write(
            log.join("00000000000000000000-0000000000.checkpoint"),
            b"snap",
        )
        .unwrap();
        std::fs::write(template.join(META_PROPERTIES), b"node.id=1\n").unwrap();
        let data = root.join("node-2");
        format_node(&template, &data, "clusterid", 2).unwrap();
        assert_eq!(
            std::fs::read(data.join("bootstrap.checkpoint")).unwrap(),
            b"\x00\x01binary"
        );
        assert_eq!(std::fs::read(data.join("sub").join("x")).unwrap(), b"x");
        assert_eq!(
            std::fs::read(
                data.join("__cluster_metadata-0")
                    .join("00000000000000000000-0000000000.checkpoint")
            )
            .unwrap(),
            b"snap"
        );
        let meta = std::fs::read_to_string(data.join(META_PROPERTIES)).unwrap();
        assert!(meta.contains("\nnode.id=2\n"), "{meta}");
        assert!(meta.contains("\ncluster.id=clusterid\n"), "{meta}");
        assert!(meta.contains("\nversion=1\n"), "{meta}");
        assert!(meta.contains("\ndirectory.id="), "{meta}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
