#!/usr/bin/env python3
"""Turns capture.sh's work dir into the golden files (see ../README.md for the layout).

For each run it copies the recorded frames under readable names, writes a sidecar .txt per frame
with the Java client's own decoding of it (NetworkClient DEBUG lines; for the frames NetworkClient
does not log, i.e. a SASL connection's authentication, GoldenProducer decode's output), cuts the
record batch out of the Produce request (client_batch.bin), copies the broker's log segment
(log_segment.bin), and writes expected.txt with what the run was asked to send and what the client
observed. For SCRAM runs it also recomputes each exchange's client proof and server signature from
the password (RFC 5802) and fails when they differ from the captured ones.

Sidecar format: one `key=value` per line, `#` starts a comment line, the value is everything after
the first `=` up to the end of the line (not trimmed), and `<null>` stands for a null value.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import struct

API_NAMES = {
    0: "produce",
    3: "metadata",
    10: "find_coordinator",
    17: "sasl_handshake",
    18: "api_versions",
    22: "init_producer_id",
    24: "add_partitions_to_txn",
    25: "add_offsets_to_txn",
    26: "end_txn",
    28: "txn_offset_commit",
    36: "sasl_authenticate",
}
# First flexible version of each API (from the message JSON files of apache/kafka); SaslHandshake
# has none.
NEVER = 1 << 15
FIRST_FLEXIBLE = {0: 9, 3: 9, 10: 3, 17: NEVER, 18: 3, 22: 2, 24: 3, 25: 3, 26: 3, 28: 3, 36: 2}
NULL = "<null>"


def response_header_version(api_key, version):
    if api_key == 18:
        return 0  # ApiVersions responses always use header v0 (KIP-511)
    return 1 if version >= FIRST_FLEXIBLE[api_key] else 0


def java_value(text):
    """A value as Java's generated toString() prints it: 'quoted', null, or bare."""
    if text == "null":
        return NULL
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1]
    return text


def one(pattern, text):
    found = re.findall(pattern, text)
    if len(found) != 1:
        raise SystemExit("expected exactly one %r in %r, found %d" % (pattern, text, len(found)))
    return found[0]


def java_bytes_hex(text):
    """A byte[] as the generated toString() prints it ([1, -2, ...]), as hex."""
    if text.strip() == "":
        return ""
    return bytes(int(b) & 0xFF for b in text.split(",")).hex()


def uuid_hex(java_base64):
    padded = java_base64 + "=" * (-len(java_base64) % 4)
    return base64.urlsafe_b64decode(padded).hex()


def java_fields(api_key, direction, data):
    """Selected fields of the Java client's toString() of one message, as (key, value) pairs."""
    f = []
    if api_key == 18 and direction == "request":
        f.append(("client_software_name", one(r"clientSoftwareName='([^']*)'", data)))
        f.append(("client_software_version", one(r"clientSoftwareVersion='([^']*)'", data)))
    elif api_key == 18:
        f.append(("error_code", one(r"^ApiVersionsResponseData\(errorCode=(-?\d+)", data)))
        keys = re.findall(r"ApiVersion\(apiKey=(\d+), minVersion=(-?\d+), maxVersion=(-?\d+)\)", data)
        f.append(("api_keys", " ".join("%s:%s-%s" % k for k in keys)))
        f.append(("throttle_time_ms", one(r"\], throttleTimeMs=(-?\d+)", data)))
        sup = re.findall(r"SupportedFeatureKey\(name='([^']*)', minVersion=(-?\d+), maxVersion=(-?\d+)\)", data)
        f.append(("supported_features", " ".join("%s:%s-%s" % s for s in sup)))
        f.append(("finalized_features_epoch", one(r"finalizedFeaturesEpoch=(-?\d+)", data)))
        fin = re.findall(
            r"FinalizedFeatureKey\(name='([^']*)', maxVersionLevel=(-?\d+), minVersionLevel=(-?\d+)\)", data
        )
        f.append(("finalized_features", " ".join("%s:%s-%s" % (n, lo, hi) for n, hi, lo in fin)))
        f.append(("zk_migration_ready", one(r"zkMigrationReady=(\w+)", data)))
    elif api_key == 3 and direction == "request":
        topics = re.findall(r"MetadataRequestTopic\(topicId=(\S+), name='([^']*)'\)", data)
        f.append(("topics", ",".join(name for _, name in topics)))
        f.append(("allow_auto_topic_creation", one(r"allowAutoTopicCreation=(\w+)", data)))
        f.append(("include_cluster_authorized_operations", one(r"includeClusterAuthorizedOperations=(\w+)", data)))
        f.append(("include_topic_authorized_operations", one(r"includeTopicAuthorizedOperations=(\w+)", data)))
    elif api_key == 3:
        f.append(("throttle_time_ms", one(r"^MetadataResponseData\(throttleTimeMs=(-?\d+)", data)))
        brokers = re.findall(r"MetadataResponseBroker\(nodeId=(-?\d+), host='([^']*)', port=(\d+), rack=([^)]*)\)", data)
        f.append(("brokers", " ".join("%s:%s:%s:%s" % (n, h, p, java_value(r)) for n, h, p, r in brokers)))
        f.append(("cluster_id", java_value(one(r"clusterId=('[^']*'|null)", data))))
        f.append(("controller_id", one(r"controllerId=(-?\d+)", data)))
        f.append(("cluster_authorized_operations", one(r"clusterAuthorizedOperations=(-?\d+)", data)))
        # The top-level error code exists from v13 on; older clients' data classes lack it.
        top_error = re.findall(r"clusterAuthorizedOperations=-?\d+, errorCode=(-?\d+)\)$", data)
        if top_error:
            f.append(("error_code", top_error[0]))
        topics = re.findall(
            r"MetadataResponseTopic\(errorCode=(-?\d+), name='([^']*)', topicId=(\S+), isInternal=(\w+), "
            r"partitions=\[.*\], topicAuthorizedOperations=(-?\d+)\)",
            data,
        )
        if not topics:
            # A request for no topic (a transactional client's first, for the brokers only).
            f.append(("topics", ""))
            return f
        if len(topics) != 1:
            raise SystemExit("expected at most one topic in %r" % data)
        err, name, tid, internal, ops = topics[0]
        f.append(("topics", name))
        p = "topic.%s." % name
        f += [(p + "error_code", err), (p + "topic_id", uuid_hex(tid)), (p + "is_internal", internal)]
        f.append((p + "topic_authorized_operations", ops))
        parts = re.findall(
            r"MetadataResponsePartition\(errorCode=(-?\d+), partitionIndex=(\d+), leaderId=(-?\d+), "
            r"leaderEpoch=(-?\d+), replicaNodes=\[([-\d, ]*)\], isrNodes=\[([-\d, ]*)\], "
            r"offlineReplicas=\[([-\d, ]*)\]\)",
            data,
        )
        f.append((p + "partitions", ",".join(x[1] for x in parts)))
        for perr, idx, leader, epoch, replicas, isr, offline in parts:
            q = "%spartition.%s." % (p, idx)
            f += [(q + "error_code", perr), (q + "leader_id", leader), (q + "leader_epoch", epoch)]
            f += [(q + "replica_nodes", replicas.replace(" ", "")), (q + "isr_nodes", isr.replace(" ", ""))]
            f += [(q + "offline_replicas", offline.replace(" ", ""))]
    elif api_key == 22 and direction == "request":
        f.append(("transactional_id", java_value(one(r"transactionalId=('[^']*'|null)", data))))
        f.append(("transaction_timeout_ms", one(r"transactionTimeoutMs=(-?\d+)", data)))
        f.append(("producer_id", one(r"producerId=(-?\d+)", data)))
        f.append(("producer_epoch", one(r"producerEpoch=(-?\d+)", data)))
    elif api_key == 22:
        f.append(("throttle_time_ms", one(r"throttleTimeMs=(-?\d+)", data)))
        f.append(("error_code", one(r"errorCode=(-?\d+)", data)))
        f.append(("producer_id", one(r"producerId=(-?\d+)", data)))
        f.append(("producer_epoch", one(r"producerEpoch=(-?\d+)", data)))
    elif api_key == 17 and direction == "request":
        f.append(("mechanism", one(r"^SaslHandshakeRequestData\(mechanism='([^']*)'\)$", data)))
    elif api_key == 17:
        code, mechanisms = one(r"^SaslHandshakeResponseData\(errorCode=(-?\d+), mechanisms=\[([^\]]*)\]\)$", data)
        f.append(("error_code", code))
        f.append(("mechanisms", ",".join(m.strip() for m in mechanisms.split(",") if m.strip())))
    elif api_key == 36 and direction == "request":
        f.append(("auth_bytes", java_bytes_hex(one(r"^SaslAuthenticateRequestData\(authBytes=\[([-\d, ]*)\]\)$", data))))
    elif api_key == 36:
        code, message, auth, lifetime = one(
            r"^SaslAuthenticateResponseData\(errorCode=(-?\d+), errorMessage=('[^']*'|null), "
            r"authBytes=\[([-\d, ]*)\], sessionLifetimeMs=(-?\d+)\)$",
            data,
        )
        f += [("error_code", code), ("error_message", java_value(message)), ("auth_bytes", java_bytes_hex(auth))]
        f.append(("session_lifetime_ms", lifetime))
    elif api_key == 0 and direction == "request":
        # The Java client prints only a summary of a Produce request.
        f.append(("acks", one(r"^\{acks=(-?\d+)", data)))
        f.append(("timeout_ms", one(r"timeout=(-?\d+)", data)))
        sizes = one(r"partitionSizes=\[([^\]]*)\]", data)
        for tp, idx, size in re.findall(r"([\w.-]+)-(\d+)=(\d+)", sizes):
            f.append(("topic.%s.partition.%s.records_size" % (tp, idx), size))
    elif api_key == 0:
        f.append(("throttle_time_ms", one(r"\], throttleTimeMs=(-?\d+)", data)))
        topic = one(r"TopicProduceResponse\(name='([^']*)'", data)
        f.append(("topics", topic))
        parts = re.findall(
            r"PartitionProduceResponse\(index=(\d+), errorCode=(-?\d+), baseOffset=(-?\d+), "
            r"logAppendTimeMs=(-?\d+), logStartOffset=(-?\d+), recordErrors=\[\], errorMessage=('[^']*'|null), "
            r"currentLeader=LeaderIdAndEpoch\(leaderId=(-?\d+), leaderEpoch=(-?\d+)\)\)",
            data,
        )
        if len(parts) != 1:
            raise SystemExit("expected one partition in %r" % data)
        for idx, err, base, append, start, msg, leader, epoch in parts:
            q = "topic.%s.partition.%s." % (topic, idx)
            f += [(q + "error_code", err), (q + "base_offset", base), (q + "log_append_time_ms", append)]
            f += [(q + "log_start_offset", start), (q + "error_message", java_value(msg))]
            f += [(q + "current_leader_id", leader), (q + "current_leader_epoch", epoch)]
        f.append(("node_endpoints", one(r"nodeEndpoints=\[([^\]]*)\]\)$", data)))
    return f


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise SystemExit("produce request: short read")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        shift = result = 0
        while True:
            b = self.take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def compact_bytes(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1)

    def skip_tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def produce_batches(frame):
    """The records field of every partition in a flexible (v9+) Produce request frame."""
    r = Reader(frame)
    _key, version, _corr = r.i16(), r.i16(), r.i32()
    if version < 9:
        raise SystemExit("only flexible Produce requests are parsed here")
    r.take(r.i16())  # client id: INT16 length even in header v2
    r.skip_tags()
    r.compact_bytes()  # transactional id
    r.i16()  # acks
    r.i32()  # timeout
    out = []
    for _ in range(r.uvarint() - 1):
        name = r.compact_bytes().decode()
        for _ in range(r.uvarint() - 1):
            index = r.i32()
            out.append((name, index, r.compact_bytes()))
            r.skip_tags()
        r.skip_tags()
    r.skip_tags()
    if r.pos != len(frame):
        raise SystemExit("produce request: %d trailing bytes" % (len(frame) - r.pos))
    return out


def java_messages(stderr_path):
    """Correlation id -> (direction, node, headerVersion, clientId, toString) from NetworkClient DEBUG."""
    msgs = {}
    sending = re.compile(
        r"Sending \w+ request with header RequestHeader\(apiKey=\w+, apiVersion=(\d+), clientId=([^,]*), "
        r"correlationId=(\d+), headerVersion=(\d+)\) and timeout \d+ to node (-?\d+): (.*)$"
    )
    received = re.compile(
        r"Received \w+ response from node (-?\d+) for request with header RequestHeader\(apiKey=\w+, "
        r"apiVersion=\d+, clientId=[^,]*, correlationId=(\d+), headerVersion=\d+\): (.*)$"
    )
    with open(stderr_path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = sending.search(line)
            if m:
                msgs[("req", int(m.group(3)))] = (m.group(5), m.group(4), m.group(2), m.group(6))
                continue
            m = received.search(line)
            if m:
                msgs[("resp", int(m.group(2)))] = (m.group(1), None, None, m.group(3))
    return msgs


def decoded_messages(path):
    """Frame file -> (headerVersion, clientId, correlationId, toString) from GoldenProducer decode."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("decoded "):
                continue
            _, name, header_version, client_id, corr, data = line.split(" ", 5)
            out[name] = (header_version, client_id, int(corr), data)
    return out


def scram_attributes(message):
    """The attributes of a SCRAM message (RFC 5802), e.g. {'r': ..., 's': ..., 'i': ...}."""
    out = {}
    for part in message.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out.setdefault(k, v)
    return out


def verify_scram(exchange, password, digest):
    """Recomputes a SCRAM exchange (four messages as bytes) with hash `digest` (sha256, sha512) from
    the password; fails on a mismatch. Returns the number of exchanges verified (1)."""
    client_first, server_first, client_final, server_final = (m.decode() for m in exchange)
    if not client_first.startswith("n,,"):
        raise SystemExit("SCRAM client-first without the 'n,,' GS2 header: %r" % client_first)
    client_first_bare = client_first[3:]
    first = scram_attributes(client_first_bare)
    server = scram_attributes(server_first)
    final = scram_attributes(client_final)
    if not server["r"].startswith(first["r"]) or final["r"] != server["r"]:
        raise SystemExit("SCRAM nonces do not chain: %r %r %r" % (client_first, server_first, client_final))
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), base64.b64decode(server["s"]), int(server["i"]))
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored_key = hashlib.new(digest, client_key).digest()
    without_proof = client_final[: client_final.index(",p=")]
    auth_message = ",".join([client_first_bare, server_first, without_proof]).encode()
    signature = hmac.new(stored_key, auth_message, digest).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    if base64.b64decode(final["p"]) != proof:
        raise SystemExit("SCRAM client proof differs from the one recomputed from the password")
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    server_signature = hmac.new(server_key, auth_message, digest).digest()
    if base64.b64decode(scram_attributes(server_final)["v"]) != server_signature:
        raise SystemExit("SCRAM server signature differs from the one recomputed from the password")
    return 1


def write_kv(path, pairs, comments=()):
    with open(path, "w") as f:
        for c in comments:
            f.write("# %s\n" % c)
        for k, v in pairs:
            v = NULL if v is None else str(v)
            if "\n" in v or "\n" in k or "=" in k:
                raise SystemExit("cannot write %r=%r" % (k, v))
            f.write("%s=%s\n" % (k, v))


def extract_run(work, name, out_dir, common):
    run_dir = os.path.join(work, "runs", name)
    props = dict(line.strip().split("=", 1) for line in open(os.path.join(run_dir, "run.properties")))
    topic = props["topic"]
    client = props["client_version"]
    java = java_messages(os.path.join(run_dir, "producer.err"))
    decoded = decoded_messages(os.path.join(run_dir, "decoded.txt"))
    frames_dir = os.path.join(run_dir, "frames")
    index = [json.loads(line) for line in open(os.path.join(frames_dir, "index.jsonl"))]
    index.sort(key=lambda e: (e["conn"], e["seq"]))
    os.makedirs(out_dir)
    batches = []
    sasl_tokens = {}  # connection -> SaslAuthenticate auth_bytes in wire order
    for e in index:
        key, version, direction = e["api_key"], e["api_version"], e["direction"]
        api = API_NAMES.get(key, "key%d" % key)
        direction_word = "request" if direction == "req" else "response"
        base = "c%d-%02d-%s-v%d-%s" % (e["conn"], e["seq"], api, version, direction_word)
        frame = open(os.path.join(frames_dir, e["file"]), "rb").read()
        with open(os.path.join(out_dir, base + ".bin"), "wb") as f:
            f.write(frame)
        if (direction, e["correlation_id"]) in java:
            node, header_version, client_id, data = java[(direction, e["correlation_id"])]
            source = "its NetworkClient DEBUG log"
        else:
            # Not logged by NetworkClient (a SASL connection's authentication): the same client
            # library's generated classes read the frame (GoldenProducer decode).
            header_version, client_id, corr, data = decoded[e["file"]]
            if corr != e["correlation_id"]:
                raise SystemExit("%s: correlation id %d, decoded %d" % (e["file"], e["correlation_id"], corr))
            node = NULL
            source = "GoldenProducer decode (its generated message classes)"
        if direction == "resp":
            header_version = response_header_version(key, version)
        pairs = [
            ("api_key", key),
            ("api_version", version),
            ("direction", direction_word),
            ("correlation_id", e["correlation_id"]),
            ("header_version", header_version),
        ]
        if direction == "req":
            pairs.append(("client_id", client_id))
        pairs.append(("java_node", node))
        if key in API_NAMES:
            pairs += java_fields(key, direction_word, data)
        pairs.append(("java", data))
        write_kv(
            os.path.join(out_dir, base + ".txt"),
            pairs,
            [
                "%s frame %s: bytes after the 4-byte size prefix (header + body)." % (direction_word, base + ".bin"),
                "Fields below `java_node` are the Java client's (kafka-clients %s) own decoding," % client,
                "parsed from %s; header_version of a response is by rule." % source,
            ],
        )
        if key == 36:
            auth = dict(pairs)["auth_bytes"]
            sasl_tokens.setdefault(e["conn"], []).append(bytes.fromhex(auth))
        if key == 0 and direction == "req":
            batches += produce_batches(frame)

    if props.get("mode") == "transact":
        extract_transactional(run_dir, name, out_dir, common, props, index)
        return
    if len(batches) != 1 or batches[0][0] != topic or batches[0][1] != 0:
        raise SystemExit("%s: expected one Produce request with one batch for %s-0" % (name, topic))
    with open(os.path.join(out_dir, "client_batch.bin"), "wb") as f:
        f.write(batches[0][2])
    segment = os.path.join(work, "data", topic + "-0", "00000000000000000000.log")
    shutil.copyfile(segment, os.path.join(out_dir, "log_segment.bin"))

    out_lines = open(os.path.join(run_dir, "producer.out")).read().splitlines()
    offsets = [int(line.rsplit("@", 1)[1]) for line in out_lines if line.startswith("sent ")]
    records = [json.loads(line[len("record ") :]) for line in out_lines if line.startswith("record ")]
    pid = re.findall(r"ProducerId set to (-?\d+) with epoch (-?\d+)", open(os.path.join(run_dir, "producer.err")).read())
    idempotent = props["idempotence"] == "true"
    if idempotent and len(pid) != 1:
        raise SystemExit("%s: expected one 'ProducerId set to' line" % name)
    producer_id, producer_epoch = pid[0] if idempotent else ("-1", "-1")
    pairs = [
        ("broker_version", common["broker"]),
        ("client_version", client),
        ("cluster_id", common["cluster_id"]),
        ("broker_node_id", 1),
        ("broker_host", "127.0.0.1"),
        ("broker_port", props.get("proxy_port", common["proxy_port"])),
        ("topic", topic),
        ("topic_id", common["topic_ids"][topic]),
        ("partition", 0),
        ("compression", props["compression"]),
        ("acks", props["acks"]),
        ("idempotence", props["idempotence"]),
        ("producer_id", producer_id),
        ("producer_epoch", producer_epoch),
        ("base_sequence", 0 if idempotent else -1),
        ("base_offset", offsets[0]),
        ("record_count", len(records)),
    ]
    sasl_comments = []
    if "sasl_mechanism" in props:
        mechanism = props["sasl_mechanism"]
        pairs += [
            ("security_protocol", props["security_protocol"]),
            ("sasl_mechanism", mechanism),
            ("sasl_username", props["sasl_username"]),
            ("sasl_password", props["sasl_password"]),
            ("sasl_enabled_mechanisms", "PLAIN,SCRAM-SHA-256"),
            ("connections_max_reauth_ms", 3600000),
            ("sasl_connections", len(sasl_tokens)),
        ]
        if mechanism.startswith("SCRAM-"):
            verified = 0
            for conn in sorted(sasl_tokens):
                tokens = sasl_tokens[conn]
                if len(tokens) != 4:
                    raise SystemExit("%s: connection %d: %d SCRAM messages, expected 4" % (name, conn, len(tokens)))
                digest = mechanism[len("SCRAM-") :].replace("-", "").lower()
                verified += verify_scram(tokens, props["sasl_password"], digest)
            pairs.append(("scram_exchanges_verified", verified))
        sasl_comments = [
            "sasl_*: the listener's mechanism and throwaway test user (capture.sh); sasl_enabled_mechanisms and",
            "connections_max_reauth_ms: server.properties.in; sasl_connections: connections that authenticated;",
            "scram_exchanges_verified: SCRAM exchanges whose client proof and server signature extract.py",
            "recomputed from the password (RFC 5802) and found equal.",
        ]
    if offsets != list(range(offsets[0], offsets[0] + len(records))):
        raise SystemExit("%s: offsets not consecutive: %r" % (name, offsets))
    for i, rec in enumerate(records):
        p = "record.%d." % i
        pairs += [(p + "timestamp", rec["timestamp"]), (p + "key", rec["key"]), (p + "value", rec["value"])]
        pairs.append((p + "header_count", len(rec["headers"])))
        for j, (hk, hv) in enumerate(rec["headers"]):
            pairs += [(p + "header.%d.key" % j, hk), (p + "header.%d.value" % j, hv)]
    write_kv(
        os.path.join(out_dir, "expected.txt"),
        pairs,
        [
            "Run %s: what GoldenProducer was asked to send, and what the Java client and broker reported." % name,
            "cluster_id: StorageTool format; topic_id: Admin createTopics; producer_id/epoch: the client's",
            "'ProducerId set to' log line (-1/-1 without idempotence); base_sequence: 0 for a new idempotent",
            "producer's first batch, -1 without idempotence; base_offset: RecordMetadata.offset() of record 0;",
            "record.*: the records GoldenProducer sent (key/value text is UTF-8).",
        ]
        + sasl_comments,
    )


def extract_transactional(run_dir, name, out_dir, common, props, index):
    """expected.txt of a transactional run: what GoldenProducer transact did, and which APIs
    the frames hold (the frames themselves are written by extract_run)."""
    out_lines = open(os.path.join(run_dir, "producer.out")).read().splitlines()
    offsets = [int(line.rsplit("@", 1)[1]) for line in out_lines if line.startswith("sent ")]
    if out_lines[-1:] != ["aborted"] or "committed" not in out_lines or len(offsets) != 3:
        raise SystemExit("%s: expected 3 records sent, a commit and an abort: %r" % (name, out_lines))
    apis = sorted({(e["api_key"], e["api_version"]) for e in index if e["direction"] == "req"})
    pairs = [
        ("broker_version", common["broker"]),
        ("client_version", props["client_version"]),
        ("cluster_id", common["cluster_id"]),
        ("topic", props["topic"]),
        ("topic_id", common["topic_ids"][props["topic"]]),
        ("transactional_id", props["transactional_id"]),
        ("group_id", props["group_id"]),
        ("committed_offsets", ",".join(str(o) for o in offsets[:2])),
        ("aborted_offsets", str(offsets[2])),
        ("group_offset", 42),
        ("group_offset_metadata", "golden"),
        ("request_apis", " ".join("%s:v%d" % (API_NAMES.get(k, "key%d" % k), v) for k, v in apis)),
    ]
    write_kv(
        os.path.join(out_dir, "expected.txt"),
        pairs,
        [
            "Run %s: GoldenProducer transact: initTransactions, a transaction of records 0 and 1 of" % name,
            "records() with sendOffsetsToTransaction(<topic>-0 -> offset 42, metadata 'golden') committed,",
            "then a transaction of record 2 aborted. *_offsets: RecordMetadata.offset() of those records;",
            "request_apis: the requests the client sent, by API and version.",
        ],
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--broker-version", required=True)
    ap.add_argument("--cluster-id", required=True)
    ap.add_argument("--proxy-port", required=True)
    args = ap.parse_args()
    topic_ids = {}
    for line in open(os.path.join(args.work, "topics.out")):
        parts = line.split()
        if len(parts) == 3 and parts[0] == "topic":
            topic_ids[parts[1]] = parts[2]
    common = {
        "broker": args.broker_version,
        "cluster_id": args.cluster_id,
        "proxy_port": args.proxy_port,
        "topic_ids": topic_ids,
    }
    for name in sorted(os.listdir(os.path.join(args.work, "runs"))):
        out_dir = os.path.join(args.out, name)
        if os.path.isdir(out_dir):
            shutil.rmtree(out_dir)
        extract_run(args.work, name, out_dir, common)
        print("wrote", out_dir)


if __name__ == "__main__":
    main()
