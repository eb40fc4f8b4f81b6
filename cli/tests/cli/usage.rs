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
    missing.expect_code(2);
    assert!(
        missing.stderr.contains("/nonexistent/input.txt"),
        "{}",
        missing.stderr
    );
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
