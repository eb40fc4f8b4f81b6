//! Version, help and argument errors: no broker needed.

use crate::support::kiel;

#[tokio::test]
async fn version_and_help() {
    let version = kiel(&["--version"], b"").await;
    version.expect_code(0);
    assert_eq!(
        version.stdout.trim_end(),
        format!("kiel {}", env!("CARGO_PKG_VERSION"))
    );

    let help = kiel(&["--help"], b"").await;
    help.expect_code(0);
    for text in ["produce", "perf", "Exit codes"] {
        assert!(
            help.stdout.contains(text),
            "{text} missing:\n{}",
            help.stdout
        );
    }
    let produce = kiel(&["produce", "--help"], b"").await;
    produce.expect_code(0);
    for text in [
        "--key-separator",
        "--parse-headers",
        "-X",
        "linger.ms",
        "Line format",
    ] {
        assert!(
            produce.stdout.contains(text),
            "{text} missing:\n{}",
            produce.stdout
        );
    }
    let perf = kiel(&["perf", "--help"], b"").await;
    perf.expect_code(0);
    for text in [
        "--num-records",
        "--throughput",
        "99.9th",
        "kiel-testcontainers",
    ] {
        assert!(
            perf.stdout.contains(text),
            "{text} missing:\n{}",
            perf.stdout
        );
    }
    // No subcommand: usage on stderr, exit code 2.
    let bare = kiel(&[], b"").await;
    assert_eq!(bare.code, Some(2), "{bare:?}");
}

#[tokio::test]
async fn an_unknown_setting_is_refused_before_connecting() {
    // Nothing listens on port 1: the setting must be checked first.
    let run = kiel(
        &[
            "produce",
            "-b",
            "127.0.0.1:1",
            "-t",
            "t",
            "-X",
            "no.such.setting=1",
        ],
        b"x\n",
    )
    .await;
    run.expect_code(2);
    assert!(
        run.stderr.contains("-X no.such.setting=1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("unknown producer setting"),
        "{}",
        run.stderr
    );

    let bad_value = kiel(
        &[
            "produce",
            "-b",
            "127.0.0.1:1",
            "-t",
            "t",
            "-X",
            "linger.ms=soon",
        ],
        b"",
    )
    .await;
    bad_value.expect_code(2);
    assert!(
        bad_value.stderr.contains("-X linger.ms=soon"),
        "{}",
        bad_value.stderr
    );

    // perf without --brokers checks the settings before starting a local Kafka.
    let perf = kiel(
        &[
            "perf",
            "--topic",
            "t",
            "--num-records",
            "10",
            "--record-size",
            "10",
            "--throughput",
            "-1",
            "-X",
            "acks=sometimes",
        ],
        b"",
    )
    .await;
    perf.expect_code(2);
    assert!(perf.stderr.contains("-X acks=sometimes"), "{}", perf.stderr);
    assert!(!perf.stderr.contains("starting a local"), "{}", perf.stderr);
}

#[tokio::test]
async fn argument_errors_exit_with_2() {
    for args in [
        &[
            "perf",
            "--topic",
            "t",
            "--num-records",
            "10",
            "--record-size",
            "10",
            "--throughput",
            "0",
        ][..],
        &[
            "perf",
            "--topic",
            "t",
            "--num-records",
            "0",
            "--record-size",
            "10",
            "--throughput",
            "-1",
        ],
        &[
            "perf",
            "--topic",
            "t",
            "--num-records",
            "10",
            "--record-size",
            "0",
            "--throughput",
            "-1",
        ],
        &["produce", "-b", "127.0.0.1:1", "-t", "t", "-X", "acks"],
        &["produce", "-b", "127.0.0.1:1", "-t", "t", "-H", "novalue"],
        &["produce", "-b", "127.0.0.1:1", "-t", "t", "-K", ""],
        &["produce", "-t", "t"],
    ] {
        let run = kiel(args, b"").await;
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(run.stderr.contains("error"), "{args:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn an_unreadable_input_file_fails_with_1_before_connecting() {
    // The README's exit codes: 1 for unreadable input (2 is for bad arguments). Nothing
    // listens on port 1, so a file opened only after connecting would fail differently.
    let missing = kiel(
        &[
            "produce",
            "-b",
            "127.0.0.1:1",
            "-t",
            "t",
            "--file",
            "/nonexistent/input.txt",
        ],
        b"",
    )
    .await;
    missing.expect_code(1);
    assert!(
        missing
            .stderr
            .contains("kiel: error: cannot open --file /nonexistent/input.txt: "),
        "{}",
        missing.stderr
    );
    assert!(
        !missing.stderr.contains("cannot start the producer"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn an_invalid_topic_name_is_refused_before_a_local_kafka_starts() {
    let run = kiel(
        &[
            "perf",
            "--topic",
            "..",
            "--num-records",
            "10",
            "--record-size",
            "10",
            "--throughput",
            "-1",
        ],
        b"",
    )
    .await;
    run.expect_code(2);
    assert!(run.stderr.contains("`..`"), "{}", run.stderr);
    assert!(!run.stderr.contains("starting a local"), "{}", run.stderr);
}

/// The `-X list` block of one setting: its first line and its description line.
fn listed<'a>(stdout: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        let head = line.strip_prefix("  ").unwrap_or("");
        if head == name || head.starts_with(&format!("{name} ")) {
            return Some((head, lines.next()?.trim_start()));
        }
    }
    None
}

#[tokio::test]
async fn x_list_prints_every_setting_and_exits_0() {
    for (args, client_id) in [
        (&["produce", "-X", "list"][..], "kiel-cli"),
        (&["perf", "-X", "list"], "kiel-perf"),
        // With everything else given, nothing connects: port 1 has no broker.
        (
            &[
                "produce",
                "-b",
                "127.0.0.1:1",
                "-t",
                "t",
                "-X",
                "acks=1",
                "-X",
                "list",
            ],
            "kiel-cli",
        ),
    ] {
        let run = kiel(args, b"").await;
        run.expect_code(0);
        assert_eq!(run.stderr, "", "{args:?}");
        let settings = kiel::ProducerConfig::settings();
        assert!(settings.len() > 20, "{settings:?}");
        for setting in settings {
            let (head, description) = listed(&run.stdout, setting.name)
                .unwrap_or_else(|| panic!("{} missing from\n{}", setting.name, run.stdout));
            let default = match setting.name {
                "client.id" => client_id,
                _ => setting.default,
            };
            if !default.is_empty() && setting.name != "bootstrap.servers" {
                assert!(
                    head.starts_with(&format!("{} = {default}", setting.name)),
                    "{head}"
                );
            }
            for alias in setting.aliases {
                assert!(head.contains(alias), "{alias} missing from {head:?}");
            }
            assert!(
                description.starts_with(setting.description),
                "{description:?} is not {:?}",
                setting.description
            );
        }
        assert!(
            listed(&run.stdout, "bootstrap.servers").is_some_and(|(_, d)| d.contains("--brokers")),
            "{}",
            run.stdout
        );
    }
    // --help has the same list and says where it comes from.
    let help = kiel(&["produce", "--help"], b"").await;
    help.expect_code(0);
    assert!(help.stdout.contains("-X list"), "{}", help.stdout);
    for setting in kiel::ProducerConfig::settings() {
        assert!(
            listed(&help.stdout, setting.name).is_some(),
            "{} missing from --help",
            setting.name
        );
    }
}

#[tokio::test]
async fn unreachable_brokers_fail_with_1() {
    let run = kiel(&["produce", "-b", "127.0.0.1:1", "-t", "t"], b"x\n").await;
    run.expect_code(1);
    assert!(run.stderr.contains("127.0.0.1:1"), "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot start the producer"),
        "{}",
        run.stderr
    );
}
