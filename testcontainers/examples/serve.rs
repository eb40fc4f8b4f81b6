//! Runs a Kafka cluster until stdin closes or the process is stopped, for experiments by hand:
//! `cargo run -p kiel-testcontainers --example serve -- [nodes] [partitions] [--secured]
//! [--reauth-ms N] [--schema-registry | --registry-only]`.
//!
//! Prints the PLAINTEXT bootstrap address as the first line on stdout. Topics are created
//! on first use with `partitions` partitions (default 6) and replication factor
//! `min(nodes, 3)`. Honours the harness's environment variables (`KIEL_KAFKA_VERSION`,
//! `KIEL_KAFKA_JVM_OPTS`, ...).
//!
//! `--secured` adds the secured listeners (SSL, MTLS, SASL_PLAINTEXT, SASL_SSL,
//! SSL_WRONG_HOST) and prints, after the first line, every listener's addresses, the
//! certificate files, the SASL user and its password, and for each listener (and SASL
//! mechanism) the client settings in Java and librdkafka property form. `--reauth-ms N`
//! (implies `--secured`) sets `connections.max.reauth.ms` on the SASL listeners.
//!
//! `--schema-registry` also starts a Schema Registry (Apicurio Registry, the Confluent API;
//! needs Java 21+) beside the cluster and prints its URL (`schema.registry.url`) as the
//! second line. `--registry-only` starts the registry alone and prints its URL as the first
//! line.

use std::time::Duration;

use kiel_testcontainers::{
    ClientAuth, ClientConfig, HarnessError, KafkaCluster, Listener, SaslMechanism, SchemaRegistry,
};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), HarnessError> {
    let mut numbers = Vec::new();
    let mut secured = false;
    let mut reauth = None;
    let mut registry = false;
    let mut registry_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secured" => secured = true,
            "--schema-registry" => registry = true,
            "--registry-only" => registry_only = true,
            "--reauth-ms" => {
                let ms: u64 = args.next().and_then(|a| a.parse().ok()).ok_or_else(|| {
                    HarnessError::InvalidArgument("--reauth-ms needs milliseconds".to_owned())
                })?;
                reauth = Some(Duration::from_millis(ms));
            }
            other => numbers.push(other.parse::<u64>().map_err(|_| {
                HarnessError::InvalidArgument(format!(
                    "unknown argument {other:?}; usage: serve [nodes] [partitions] \
                     [--secured] [--reauth-ms N] [--schema-registry | --registry-only]"
                ))
            })?),
        }
    }
    let nodes = numbers.first().copied().unwrap_or(1) as usize;
    let partitions = numbers.get(1).copied().unwrap_or(6) as u32;
    let mut builder = KafkaCluster::builder()
        .nodes(nodes)
        .default_partitions(partitions)
        .replication_factor(nodes.min(3) as u32);
    if secured {
        builder = builder.secured();
    }
    if let Some(every) = reauth {
        builder = builder.sasl_reauthentication(every);
    }
    if registry_only {
        let registry = SchemaRegistry::start().await?;
        println!("{}", registry.url());
        print_registry(&registry);
        wait_for_stdin_to_close().await;
        return Ok(());
    }
    let (cluster, registry) = if registry {
        let (cluster, registry) = tokio::join!(builder.start(), SchemaRegistry::start());
        (cluster?, Some(registry?))
    } else {
        (builder.start().await?, None)
    };
    println!("{}", cluster.bootstrap());
    if let Some(registry) = &registry {
        println!("{}", registry.url());
        print_registry(registry);
    }
    if cluster.security().is_some() {
        print_secured(&cluster)?;
    }
    wait_for_stdin_to_close().await;
    Ok(())
}

/// Where the registry is and what it runs on, as comments.
fn print_registry(registry: &SchemaRegistry) {
    let (java, major) = registry.java();
    println!(
        "# Schema Registry: Apicurio Registry {} on Java {major} ({}), started in {:.1} s; \
         schema.registry.url={}",
        registry.version(),
        java.display(),
        registry.startup_timings().total.as_secs_f64(),
        registry.url()
    );
    println!(
        "# registry log {}, access log {}",
        registry.log_path().display(),
        registry.access_log_path().display()
    );
}

async fn wait_for_stdin_to_close() {
    eprintln!("serving; close stdin or press Ctrl-C to stop (everything stops with this process)");
    let _ =
        tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
            .await;
}

/// Everything a client of the secured listeners needs, in property-file form.
fn print_secured(cluster: &KafkaCluster) -> Result<(), HarnessError> {
    let Some(security) = cluster.security() else {
        return Ok(());
    };
    println!();
    println!("# Secured cluster; files in {}", security.dir().display());
    println!(
        "# CA (trust it):             {}",
        security.ca_path().display()
    );
    println!(
        "# client certificate (MTLS): {}",
        security.client_cert_path().display()
    );
    println!(
        "# client key (PKCS#8):       {}",
        security.client_key_path().display()
    );
    println!(
        "# other CA (trusts nothing the brokers serve): {}",
        security.other_ca_path().display()
    );
    for user in security.users() {
        println!(
            "# SASL user (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512): {} / {}",
            user.name(),
            user.password()
        );
    }
    println!("# OAUTHBEARER: unsecured tokens (alg none), the principal in `sub`");
    if let Some(every) = security.reauthentication() {
        println!("# SASL re-authentication every {} ms", every.as_millis());
    }
    for listener in [Listener::Plaintext].into_iter().chain(Listener::SECURED) {
        println!("# {listener}: {}", cluster.bootstrap_for(listener)?);
    }
    println!(
        "# ({} serves a certificate for {} only: clients checking host names refuse it)",
        Listener::SslWrongHost,
        security.wrong_host_name()
    );
    let user = security.user().clone();
    let mut configs = vec![
        cluster.client_config(Listener::Ssl, ClientAuth::None)?,
        cluster.client_config(Listener::Mtls, ClientAuth::None)?,
    ];
    for listener in [Listener::SaslPlaintext, Listener::SaslSsl] {
        for mechanism in SaslMechanism::ALL {
            configs
                .push(cluster.client_config(listener, ClientAuth::Sasl(mechanism, user.clone()))?);
        }
    }
    for config in &configs {
        print_config(config);
    }
    Ok(())
}

fn print_config(config: &ClientConfig) {
    let title = match config.sasl() {
        Some((mechanism, _)) => format!("{} with {mechanism}", config.listener()),
        None => config.listener().to_string(),
    };
    println!();
    println!("## {title}: Java client properties");
    print!("{}", config.java_properties_text());
    println!("## {title}: librdkafka properties");
    for (key, value) in config.librdkafka_properties() {
        println!("{key}={value}");
    }
}
