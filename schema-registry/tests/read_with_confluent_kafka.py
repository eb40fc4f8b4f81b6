"""Reads a topic with Python's confluent-kafka (librdkafka) and decodes every value with
confluent-kafka's own Schema Registry deserializer: an implementation independent of kiel.

Usage: read_with_confluent_kafka.py BOOTSTRAP TOPIC REGISTRY_URL COUNT FORMAT [PROTO_FILE MESSAGE]
FORMAT: avro, json (JSON Schema) or protobuf. Prints one JSON object per record: partition,
offset, key, schema_id, value (and for protobuf: message_indexes, message, schema_matches).

Protobuf: the message class is compiled from PROTO_FILE by protoc (grpcio-tools' copy), and
confluent-kafka's ProtobufDeserializer reads each value with a registry client: it fetches the
writer schema by the id in the value, resolves the message indexes in it, and parses the
message. Apicurio Registry 3.3.3 answers `?format=serialized` (which that deserializer asks
for) with the descriptor's raw bytes instead of base64, so the client given to it
(`ApicurioProtobufClient`) fetches the schema's text instead and compiles it with protoc into
the base64 descriptor Confluent's registry would have sent. The script also checks that the
writer schema's text is PROTO_FILE.
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


def apicurio_protobuf_client(base):
    """A SchemaRegistryClient that hands confluent-kafka's Protobuf deserializer the base64
    descriptor it expects for `format=serialized` (see the module doc)."""

    class ApicurioProtobufClient(base):
        def get_schema(self, schema_id, subject_name=None, fmt=None, reference_format=None):
            schema = super().get_schema(schema_id, subject_name, None, reference_format)
            if fmt != "serialized" or schema.schema_type != "PROTOBUF":
                return schema
            import base64
            import os
            import tempfile
            from grpc_tools import protoc
            from google.protobuf import descriptor_pb2
            from confluent_kafka.schema_registry import Schema
            folder = tempfile.mkdtemp(prefix="kiel-writer-schema-")
            with open(os.path.join(folder, "writer.proto"), "w") as f:
                f.write(schema.schema_str)
            out = os.path.join(folder, "writer.pb")
            if protoc.main(["protoc", f"-I{folder}", f"--descriptor_set_out={out}", "writer.proto"]) != 0:
                raise ValueError(f"protoc could not compile schema {schema_id}")
            files = descriptor_pb2.FileDescriptorSet()
            with open(out, "rb") as f:
                files.ParseFromString(f.read())
            serialized = base64.standard_b64encode(files.file[0].SerializeToString()).decode("ascii")
            return Schema(serialized, "PROTOBUF", schema.references)

    return ApicurioProtobufClient


class protobuf_reader:
    """confluent-kafka's ProtobufDeserializer over a class protoc compiled from proto_file."""

    def __init__(self, proto_file, message):
        try:
            import importlib
            import os
            import tempfile
            from grpc_tools import protoc
            from google.protobuf import descriptor_pb2, json_format
            from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
            from confluent_kafka.schema_registry.serde import SchemaId
            from confluent_kafka.schema_registry import dual_schema_id_deserializer
        except ImportError as e:
            print(f"missing Python package: {e}", file=sys.stderr)
            sys.exit(3)
        out = tempfile.mkdtemp(prefix="kiel-protoc-")
        folder, name = os.path.split(os.path.abspath(proto_file))
        if protoc.main(["protoc", f"-I{folder}", f"--python_out={out}", name]) != 0:
            print(f"protoc could not compile {proto_file}", file=sys.stderr)
            sys.exit(1)
        sys.path.insert(0, out)
        module = importlib.import_module(name[: -len(".proto")] + "_pb2")
        self.file = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(self.file)
        self.text = open(proto_file).read()
        descriptor = module.DESCRIPTOR
        package = descriptor.package
        path = message[len(package) + 1:] if package and message.startswith(package + ".") else message
        parts = path.split(".")
        desc = descriptor.message_types_by_name[parts[0]]
        for part in parts[1:]:
            desc = desc.nested_types_by_name[part]
        from google.protobuf.message_factory import GetMessageClass
        client_class = apicurio_protobuf_client(SchemaRegistryClient)
        self.deserializer = ProtobufDeserializer(
            GetMessageClass(desc), {}, schema_registry_client=client_class({"url": registry_url, "timeout": 20})
        )
        self.json_format = json_format
        self.SchemaId = SchemaId
        self.read_framing = dual_schema_id_deserializer
        self.checked = {}

    def message_name(self, indexes):
        names = [self.file.package] if self.file.package else []
        messages = self.file.message_type
        for index in indexes:
            names.append(messages[index].name)
            messages = messages[index].nested_type
        return ".".join(names)

    def describe(self, raw, message):
        # `message` came through the registry-backed deserializer (see the module doc).
        schema_id = self.SchemaId("PROTOBUF")
        self.read_framing(raw, None, schema_id)
        if schema_id.id not in self.checked:
            self.checked[schema_id.id] = registry.get_schema(schema_id.id).schema_str == self.text
        return {
            "message_indexes": schema_id.message_indexes,
            "message": self.message_name(schema_id.message_indexes),
            "schema_matches": self.checked[schema_id.id],
            "value": self.json_format.MessageToDict(
                message,
                always_print_fields_with_no_presence=True,
                preserving_proto_field_name=True,
            ),
        }


bootstrap, topic, registry_url, count, fmt = sys.argv[1:6]
count = int(count)
# A registry call that does not answer fails after 20 s instead of hanging the reader.
registry = SchemaRegistryClient({"url": registry_url, "timeout": 20})
describe = None
if fmt == "protobuf":
    describe = protobuf_reader(*sys.argv[6:8])
    deserializer = describe.deserializer
elif fmt == "avro":
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
    key = message.key().decode() if message.key() is not None else None
    record = {
        "partition": message.partition(),
        "offset": message.offset(),
        "key": key,
        "schema_id": schema_id,
    }
    if describe is not None:
        record.update(
            describe.describe(raw, deserializer(raw, SerializationContext(topic, MessageField.VALUE)))
        )
    else:
        record["value"] = deserializer(raw, SerializationContext(topic, MessageField.VALUE))
    print(json.dumps(record), flush=True)
    seen += 1
consumer.close()
if seen < count:
    print(f"read {seen} of {count} records in 60 s", file=sys.stderr)
    sys.exit(1)
