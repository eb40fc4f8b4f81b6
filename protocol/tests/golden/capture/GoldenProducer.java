// Drives the Java client for capture.sh. Three modes:
//   create <bootstrap> <topic>...            creates single-partition topics (Admin client)
//   produce <bootstrap> <topic> <compression> <acks> <idempotence> [<mechanism> <user> <password>]
//                                            sends RECORDS below to partition 0 as ONE batch;
//                                            with a SASL mechanism (PLAIN, SCRAM-SHA-256, ...)
//                                            over SASL_PLAINTEXT
//   transact <bootstrap> <topic> <transactional id> <group id>
//                                            one committed transaction (two records and the
//                                            group's offset 42 for <topic>-0) and one aborted
//                                            transaction (one record)
//   decode <frames dir>                      prints, for every frame record_proxy.py wrote, the
//                                            header and body as this kafka-clients version's
//                                            generated message classes read them (toString())
// The records carry fixed timestamps so a re-encoded batch can match the client's bytes.
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class GoldenProducer {
    static final long BASE_TIMESTAMP = 1700000000000L;

    static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    static List<ProducerRecord<byte[], byte[]>> records(String topic) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        List<Header> h0 = new ArrayList<>();
        h0.add(new RecordHeader("trace", utf8("abc")));
        out.add(new ProducerRecord<>(topic, 0, BASE_TIMESTAMP, utf8("key-0"), utf8("value-0"), h0));
        List<Header> h1 = new ArrayList<>();
        h1.add(new RecordHeader("trace", utf8("def")));
        h1.add(new RecordHeader("empty", null));
        out.add(new ProducerRecord<>(topic, 0, BASE_TIMESTAMP + 1, utf8("key-1"), utf8("value-1"), h1));
        out.add(new ProducerRecord<>(topic, 0, BASE_TIMESTAMP + 2, null, utf8("value-without-key"), new ArrayList<>()));
        out.add(new ProducerRecord<>(topic, 0, BASE_TIMESTAMP + 3, utf8("key-3"), null, new ArrayList<>()));
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            big.append("compressible kafka payload ");
        }
        out.add(new ProducerRecord<>(topic, 0, BASE_TIMESTAMP + 10, utf8("key-4"), utf8(big.toString().trim()), new ArrayList<>()));
        return out;
    }

    static String json(byte[] b) {
        if (b == null) {
            return "null";
        }
        String s = new String(b, StandardCharsets.UTF_8);
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    // One JSON object per record: what the client was asked to send (the expected decode).
    static String describe(ProducerRecord<byte[], byte[]> r) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"timestamp\": ").append(r.timestamp());
        sb.append(", \"key\": ").append(json(r.key()));
        sb.append(", \"value\": ").append(json(r.value()));
        sb.append(", \"headers\": [");
        boolean first = true;
        for (Header h : r.headers()) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            sb.append("[").append(json(utf8(h.key()))).append(", ").append(json(h.value())).append("]");
        }
        return sb.append("]}").toString();
    }

    // record_proxy.py's file names: c<conn>-<seq>-<req|resp>-k<key>-v<version>-corr<id>.bin
    static final Pattern FRAME = Pattern.compile("c(\\d+)-(\\d+)-(req|resp)-k(-?\\d+)-v(-?\\d+)-corr(-?\\d+)\\.bin");

    // One line per frame: "decoded <file> <headerVersion> <clientId> <correlationId> <body>",
    // clientId "-" for responses; the body is the generated data class's toString(). Fails when
    // a frame has bytes left over.
    static void decode(File dir) throws Exception {
        String[] names = dir.list();
        Arrays.sort(names);
        for (String name : names) {
            Matcher m = FRAME.matcher(name);
            if (!m.matches()) {
                continue;
            }
            boolean request = m.group(3).equals("req");
            short key = Short.parseShort(m.group(4));
            short version = Short.parseShort(m.group(5));
            ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(new File(dir, name).toPath()));
            ApiMessageType type = ApiMessageType.fromApiKey(key);
            short headerVersion;
            String clientId;
            int correlationId;
            ApiMessage body;
            if (request) {
                RequestHeader header = RequestHeader.parse(buf);
                headerVersion = header.headerVersion();
                clientId = header.clientId();
                correlationId = header.correlationId();
                body = type.newRequest();
            } else {
                headerVersion = ApiKeys.forId(key).responseHeaderVersion(version);
                ResponseHeader header = ResponseHeader.parse(buf, headerVersion);
                clientId = "-";
                correlationId = header.correlationId();
                body = type.newResponse();
            }
            body.read(new ByteBufferAccessor(buf), version);
            if (buf.hasRemaining()) {
                throw new IllegalStateException(name + ": " + buf.remaining() + " bytes left over");
            }
            System.out.println("decoded " + name + " " + headerVersion + " " + clientId + " "
                + correlationId + " " + body);
        }
    }

    // A committed transaction that also commits the group's offset 42 for <topic>-0
    // (sendOffsetsToTransaction: AddOffsetsToTxn, TxnOffsetCommit), then an aborted one.
    static void transact(String bootstrap, String topic, String transactionalId, String group) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", "kiel-golden");
        p.put("transactional.id", transactionalId);
        p.put("transaction.timeout.ms", "60000");
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        List<ProducerRecord<byte[], byte[]>> records = records(topic);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (ProducerRecord<byte[], byte[]> r : records.subList(0, 2)) {
                RecordMetadata m = producer.send(r).get();
                System.out.println("sent " + m.topic() + "-" + m.partition() + "@" + m.offset());
            }
            producer.sendOffsetsToTransaction(
                Collections.singletonMap(new TopicPartition(topic, 0), new OffsetAndMetadata(42L, "golden")),
                new ConsumerGroupMetadata(group));
            producer.commitTransaction();
            System.out.println("committed");
            producer.beginTransaction();
            RecordMetadata m = producer.send(records.get(2)).get();
            System.out.println("sent " + m.topic() + "-" + m.partition() + "@" + m.offset());
            producer.abortTransaction();
            System.out.println("aborted");
        }
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        if (mode.equals("decode")) {
            decode(new File(args[1]));
            return;
        }
        String bootstrap = args[1];
        if (mode.equals("create")) {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            try (Admin admin = Admin.create(p)) {
                List<NewTopic> topics = new ArrayList<>();
                for (int i = 2; i < args.length; i++) {
                    topics.add(new NewTopic(args[i], 1, (short) 1));
                }
                org.apache.kafka.clients.admin.CreateTopicsResult result = admin.createTopics(topics);
                result.all().get();
                for (NewTopic t : topics) {
                    org.apache.kafka.common.Uuid id = result.topicId(t.name()).get();
                    System.out.println(String.format("topic %s %016x%016x",
                        t.name(), id.getMostSignificantBits(), id.getLeastSignificantBits()));
                }
            }
            return;
        }
        if (mode.equals("transact")) {
            transact(bootstrap, args[2], args[3], args[4]);
            return;
        }
        String topic = args[2];
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", "kiel-golden");
        p.put("compression.type", args[3]);
        p.put("acks", args[4]);
        p.put("enable.idempotence", args[5]);
        p.put("linger.ms", "2000");
        p.put("batch.size", "65536");
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        if (args.length > 6) {
            String mechanism = args[6];
            String module = mechanism.equals("PLAIN")
                ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
            p.put("security.protocol", "SASL_PLAINTEXT");
            p.put("sasl.mechanism", mechanism);
            p.put("sasl.jaas.config", module + " required username=\"" + args[7]
                + "\" password=\"" + args[8] + "\";");
        }
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : records(topic)) {
                sent.add(producer.send(r));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) {
                RecordMetadata m = f.get();
                System.out.println("sent " + m.topic() + "-" + m.partition() + "@" + m.offset());
            }
            for (ProducerRecord<byte[], byte[]> r : records(topic)) {
                System.out.println("record " + describe(r));
            }
        }
    }
}
