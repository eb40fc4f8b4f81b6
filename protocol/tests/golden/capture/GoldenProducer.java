// Drives the Java client for capture.sh. Two modes:
//   create <bootstrap> <topic>...            creates single-partition topics (Admin client)
//   produce <bootstrap> <topic> <compression> <acks> <idempotence>
//                                            sends RECORDS below to partition 0 as ONE batch
// The records carry fixed timestamps so a re-encoded batch can match the client's bytes.
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
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

    public static void main(String[] args) throws Exception {
        String mode = args[0];
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
