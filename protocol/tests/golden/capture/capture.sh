#!/usr/bin/env bash
# Re-creates the golden files in protocol/tests/golden/ from a real Apache Kafka broker and the
# Java producer. Needs: java 17+ (with javac), mvn, python3, and Maven Central.
#
#   protocol/tests/golden/capture/capture.sh            # writes into protocol/tests/golden/
#   GOLDEN_OUT=/some/dir capture.sh                      # writes elsewhere
#   KEEP_WORK=1 capture.sh                               # keeps the temp dir (raw frames, logs)
#   ONLY_RUNS="sasl-plain sasl-scram-sha-256" capture.sh # only these runs (others untouched)
#
# What it does (see ../README.md): downloads the broker jars (Kafka 4.1.1) and the client jars
# (kafka-clients 4.0.1) into a temp dir, formats and starts a single KRaft node on free loopback
# ports, creates one topic per run over an unrecorded listener, then runs GoldenProducer once per
# run through record_proxy.py, stops the broker, and lets extract.py pick and name the frames and
# copy the log segments. The sasl-* runs go through a SASL_PLAINTEXT listener (PLAIN, and
# SCRAM-SHA-256 with a credential added at format time), with throwaway test passwords.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${GOLDEN_OUT:-$(cd "$HERE/.." && pwd)}
WORK=$(mktemp -d /tmp/kiel-golden-XXXXXX)
BROKER_PID=""
PROXY_PID=""

cleanup() {
    if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null || true; fi
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

echo "== jars (Maven Central) into $WORK"
CLIENT_VERSIONS=(4.0.1 3.9.1)
copy_jars() { # pom, output dir, extra mvn args...
    local pom=$1 dir=$2
    shift 2
    mvn -q -B -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
        -DoutputDirectory="$dir" -DincludeScope=runtime "$@"
}
copy_jars "$HERE/pom-broker.xml" "$WORK/broker-libs"
for v in "${CLIENT_VERSIONS[@]}"; do
    copy_jars "$HERE/pom-client.xml" "$WORK/client-libs-$v" -Dclient.version="$v"
done
BROKER_CP="$WORK/broker-libs/*"

echo "== free ports"
read -r CLIENT_PORT DIRECT_PORT CONTROLLER_PORT PROXY_PORT SASL_PORT SASL_PROXY_PORT < <(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
echo "client=$CLIENT_PORT direct=$DIRECT_PORT controller=$CONTROLLER_PORT proxy=$PROXY_PORT" \
    "sasl=$SASL_PORT sasl-proxy=$SASL_PROXY_PORT"

# Throwaway credentials of the SASL listener's one user (they end up in the golden frames: a
# PLAIN token carries the password in clear). Never use them anywhere else.
SASL_USER=golden
PLAIN_PASSWORD=golden-plain-test-password
SCRAM_PASSWORD=golden-scram-test-password

echo "== format and start the broker"
DATA="$WORK/data"
CONF="$WORK/server.properties"
sed -e "s#@CLIENT_PORT@#$CLIENT_PORT#g" -e "s#@DIRECT_PORT@#$DIRECT_PORT#g" \
    -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" -e "s#@PROXY_PORT@#$PROXY_PORT#g" \
    -e "s#@SASL_PORT@#$SASL_PORT#g" -e "s#@SASL_PROXY_PORT@#$SASL_PROXY_PORT#g" \
    -e "s#@PLAIN_PASSWORD@#$PLAIN_PASSWORD#g" \
    -e "s#@DATA_DIR@#$DATA#g" "$HERE/server.properties.in" > "$CONF"
TOOL_LOG="-Dlog4j2.configurationFile=$HERE/tools-log4j2.properties"
CLUSTER_ID=$(java -Xmx256m "$TOOL_LOG" -cp "$BROKER_CP" kafka.tools.StorageTool random-uuid)
java -Xmx256m "$TOOL_LOG" -cp "$BROKER_CP" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$CONF" \
    --add-scram "SCRAM-SHA-256=[name=\"$SASL_USER\",password=\"$SCRAM_PASSWORD\"]"
java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true -Dkafka.logs.dir="$WORK/logs" \
    "-Dlog4j2.configurationFile=$HERE/log4j2.properties" -cp "$BROKER_CP" kafka.Kafka "$CONF" \
    > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 120); do
    if grep -q "Kafka Server started" "$WORK/broker.log"; then break; fi
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then cat "$WORK/broker.log"; exit 1; fi
    sleep 1
done
grep -q "Kafka Server started" "$WORK/broker.log" || { cat "$WORK/broker.log"; exit 1; }
BROKER_VERSION=$(java "$TOOL_LOG" -cp "$BROKER_CP" kafka.Kafka --version 2>/dev/null | head -n1)
echo "broker up: $BROKER_VERSION"

echo "== compile GoldenProducer"
for v in "${CLIENT_VERSIONS[@]}"; do
    mkdir -p "$WORK/classes-$v"
    javac -d "$WORK/classes-$v" -cp "$WORK/client-libs-$v/*" "$HERE/GoldenProducer.java"
done
run_cp() { echo "$WORK/classes-$1:$WORK/client-libs-$1/*"; }

# run name, kafka-clients version, topic, compression.type, acks, enable.idempotence, SASL
# mechanism (- for the PLAINTEXT listener), mode (produce: one batch; transact: a committed
# transaction with offsets and an aborted one, GoldenProducer transact)
ALL_RUNS=(
    "idempotent-none 4.0.1 golden-none none all true - produce"
    "idempotent-gzip 4.0.1 golden-gzip gzip all true - produce"
    "idempotent-snappy 4.0.1 golden-snappy snappy all true - produce"
    "idempotent-lz4 4.0.1 golden-lz4 lz4 all true - produce"
    "idempotent-zstd 4.0.1 golden-zstd zstd all true - produce"
    "acks1-none 4.0.1 golden-acks1 none 1 false - produce"
    "client39-idempotent-none 3.9.1 golden-client39 none all true - produce"
    "sasl-plain 4.0.1 golden-sasl-plain none all true PLAIN produce"
    "sasl-scram-sha-256 4.0.1 golden-sasl-scram none all true SCRAM-SHA-256 produce"
    "transactional 4.0.1 golden-txn none all true - transact"
    "client39-transactional 3.9.1 golden-txn39 none all true - transact"
)
RUNS=()
for run in "${ALL_RUNS[@]}"; do
    read -r name _ <<<"$run"
    if [ -z "${ONLY_RUNS:-}" ] || [[ " $ONLY_RUNS " == *" $name "* ]]; then RUNS+=("$run"); fi
done
if [ "${#RUNS[@]}" = 0 ]; then echo "ONLY_RUNS matches no run: $ONLY_RUNS" >&2; exit 1; fi
TOPICS=()
for run in "${RUNS[@]}"; do
    read -r _ _ topic _ <<<"$run"
    TOPICS+=("$topic")
done
java -cp "$(run_cp 4.0.1)" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    GoldenProducer create "127.0.0.1:$DIRECT_PORT" "${TOPICS[@]}" > "$WORK/topics.out"
cat "$WORK/topics.out"

for run in "${RUNS[@]}"; do
    read -r name client topic codec acks idem mechanism mode <<<"$run"
    echo "== run $name: kafka-clients $client topic=$topic compression=$codec acks=$acks idempotence=$idem" \
        "sasl=$mechanism"
    mkdir -p "$WORK/runs/$name"
    SASL_ARGS=()
    case "$mechanism" in
        -) listen=$PROXY_PORT target=$CLIENT_PORT ;;
        PLAIN) listen=$SASL_PROXY_PORT target=$SASL_PORT SASL_ARGS=("$mechanism" "$SASL_USER" "$PLAIN_PASSWORD") ;;
        *) listen=$SASL_PROXY_PORT target=$SASL_PORT SASL_ARGS=("$mechanism" "$SASL_USER" "$SCRAM_PASSWORD") ;;
    esac
    python3 "$HERE/record_proxy.py" --listen "127.0.0.1:$listen" \
        --target "127.0.0.1:$target" --out "$WORK/runs/$name/frames" \
        > "$WORK/runs/$name/proxy.log" 2>&1 &
    PROXY_PID=$!
    for _ in $(seq 1 50); do
        if grep -q listening "$WORK/runs/$name/proxy.log"; then break; fi
        sleep 0.1
    done
    # NetworkClient at DEBUG logs every request it sends and every response it decoded: the
    # Java client's own reading of the captured frames, kept beside them for reference.
    if [ "$mode" = transact ]; then
        GOLDEN_ARGS=(transact "127.0.0.1:$listen" "$topic" "golden-tx-$name" "golden-group-$name")
    else
        GOLDEN_ARGS=(produce "127.0.0.1:$listen" "$topic" "$codec" "$acks" "$idem" "${SASL_ARGS[@]}")
    fi
    java -cp "$(run_cp "$client")" -Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient=debug \
        GoldenProducer "${GOLDEN_ARGS[@]}" \
        > "$WORK/runs/$name/producer.out" 2> "$WORK/runs/$name/producer.err"
    kill "$PROXY_PID"
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=""
    printf '%s\n' "client_version=$client" "topic=$topic" "compression=$codec" "acks=$acks" "idempotence=$idem" \
        "proxy_port=$listen" "mode=$mode" > "$WORK/runs/$name/run.properties"
    if [ "$mode" = transact ]; then
        printf '%s\n' "transactional_id=golden-tx-$name" "group_id=golden-group-$name" >> "$WORK/runs/$name/run.properties"
    fi
    if [ "$mechanism" != - ]; then
        printf '%s\n' "security_protocol=SASL_PLAINTEXT" "sasl_mechanism=${SASL_ARGS[0]}" \
            "sasl_username=${SASL_ARGS[1]}" "sasl_password=${SASL_ARGS[2]}" >> "$WORK/runs/$name/run.properties"
    fi
    # The frames NetworkClient does not log (on a SASL connection, the authentication: the
    # authenticator's own ApiVersions, SaslHandshake, SaslAuthenticate) are decoded by the same
    # kafka-clients version's generated message classes instead (GoldenProducer decode).
    java -cp "$(run_cp "$client")" GoldenProducer decode "$WORK/runs/$name/frames" \
        > "$WORK/runs/$name/decoded.txt"
    grep '^sent ' "$WORK/runs/$name/producer.out"
done

echo "== stop the broker"
kill "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
BROKER_PID=""

echo "== extract into $OUT"
python3 "$HERE/extract.py" --work "$WORK" --out "$OUT" \
    --broker-version "$BROKER_VERSION" --cluster-id "$CLUSTER_ID" --proxy-port "$PROXY_PORT"
echo "done"
