"""Reads a topic with Python's confluent-kafka (librdkafka) and decodes every value with
confluent-kafka's own Schema Registry deserializer: an implementation independent of kiel.

Usage: read_with_confluent_kafka.py BOOTSTRAP TOPIC REGISTRY_URL COUNT FORMAT
FORMAT: avro or json (JSON Schema). Prints one JSON object per record: partition, offset, key, schema_id, value.
Exit 3 when confluent-kafka is missing (the test says how to install it).
"""
import json
import sys
import time

try:
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext
except ImportError as e:
    print(f"missing Python package: {e}", file=sys.stderr)
    sys.exit(3)

bootstrap, topic, registry_url, count, fmt = sys.argv[1:6]
count = int(count)
registry = SchemaRegistryClient({"url": registry_url})
if fmt == "avro":
    deserializer = AvroDeserializer(registry)
elif fmt == "json":
    # No schema of its own: the writer's, from the registry, validates each value.
    deserializer = JSONDeserializer(None, schema_registry_client=registry)
else:
    print(f"unknown format {fmt}", file=sys.stderr)
    sys.exit(2)
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": f"kiel-check-{time.time_ns()}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
consumer.subscribe([topic])
seen = 0
deadline = time.time() + 60
while seen < count and time.time() < deadline:
    message = consumer.poll(1.0)
    if message is None:
        continue
    if message.error():
        print(f"consumer error: {message.error()}", file=sys.stderr)
        sys.exit(1)
    raw = message.value()
    schema_id = int.from_bytes(raw[1:5], "big") if raw and len(raw) >= 5 else None
    value = deserializer(raw, SerializationContext(topic, MessageField.VALUE))
    key = message.key().decode() if message.key() is not None else None
    print(json.dumps({
        "partition": message.partition(),
        "offset": message.offset(),
        "key": key,
        "schema_id": schema_id,
        "value": value,
    }), flush=True)
    seen += 1
consumer.close()
if seen < count:
    print(f"read {seen} of {count} records in 60 s", file=sys.stderr)
    sys.exit(1)
