/*
 * The race's Java client for workloads Kafka's ProducerPerformance cannot run: transactions
 * of a fixed number of records (--transaction-records N). Same workload, options and total
 * line as ProducerPerformance (and `kiel perf`, `rdkafka-perf`): records of --record-size
 * bytes sent as fast as --throughput allows, each with a callback that records its latency;
 * a transaction begins before the first record after a commit and commits once it holds N
 * records or has been open --transaction-duration-ms (and at the end). Written for the race;
 * compiled by it with the JDK's javac against the Kafka distribution's client jars.
 *
 * References: Kafka's ProducerPerformance (the workload and the total line's format).
 */

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class RacePerf {
    private RacePerf() {
    }

    /** The command line. */
    private static final class Options {
        String topic;
        long numRecords = -1;
        int recordSize = -1;
        double throughput = -1;
        String transactionalId;
        Long transactionDurationMs;
        Long transactionRecords;
        final Properties properties = new Properties();

        static Options parse(String[] args) throws IOException {
            Options o = new Options();
            int i = 0;
            while (i < args.length) {
                String flag = args[i++];
                switch (flag) {
                    case "--topic": o.topic = args[i++]; break;
                    case "--num-records": o.numRecords = Long.parseLong(args[i++]); break;
                    case "--record-size": o.recordSize = Integer.parseInt(args[i++]); break;
                    case "--throughput": o.throughput = Double.parseDouble(args[i++]); break;
                    case "--transactional-id": o.transactionalId = args[i++]; break;
                    case "--transaction-duration-ms":
                        o.transactionDurationMs = Long.parseLong(args[i++]);
                        break;
                    case "--transaction-records":
                        o.transactionRecords = Long.parseLong(args[i++]);
                        break;
                    case "--command-config":
                    case "--producer.config":
                        try (InputStream in = new FileInputStream(args[i++])) {
                            o.properties.load(in);
                        }
                        break;
                    case "--command-property":
                    case "--producer-props":
                        while (i < args.length && !args[i].startsWith("--")) {
                            String pair = args[i++];
                            int eq = pair.indexOf('=');
                            if (eq <= 0) {
                                throw new IllegalArgumentException("not KEY=VALUE: " + pair);
                            }
                            o.properties.setProperty(pair.substring(0, eq), pair.substring(eq + 1));
                        }
                        break;
                    default:
                        throw new IllegalArgumentException("unknown option " + flag);
                }
            }
            if (o.topic == null || o.numRecords < 0 || o.recordSize < 0) {
                throw new IllegalArgumentException(
                    "--topic, --num-records and --record-size are required");
            }
            return o;
        }

        boolean transactional() {
            return transactionalId != null || transactionDurationMs != null
                || transactionRecords != null;
        }
    }

    /** Latencies of acknowledged records, and failures. */
    private static final class Tally {
        private final int[] latencies;
        private int count;
        private long sum;
        private int max;
        final AtomicLong failed = new AtomicLong();

        Tally(long records) {
            latencies = new int[(int) Math.min(records, Integer.MAX_VALUE - 8)];
        }

        synchronized void acknowledged(int latencyMs) {
            if (count < latencies.length) {
                latencies[count] = latencyMs;
            }
            count++;
            sum += latencyMs;
            max = Math.max(max, latencyMs);
        }

        synchronized String total(long elapsedMs, int recordSize) {
            double seconds = Math.max(elapsedMs, 1) / 1000.0;
            double perSecond = count / seconds;
            double mbPerSecond = perSecond * recordSize / (1024.0 * 1024.0);
            int[] sorted = Arrays.copyOf(latencies, Math.min(count, latencies.length));
            Arrays.sort(sorted);
            return String.format(
                "%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, "
                    + "%.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.",
                count, perSecond, mbPerSecond, count == 0 ? 0.0 : (double) sum / count,
                (double) max, at(sorted, 0.5), at(sorted, 0.95), at(sorted, 0.99),
                at(sorted, 0.999));
        }

        private static int at(int[] sorted, double quantile) {
            if (sorted.length == 0) {
                return 0;
            }
            int index = (int) Math.min(sorted.length - 1, Math.floor(quantile * sorted.length));
            return sorted[index];
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Properties props = o.properties;
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        boolean transactional = o.transactional();
        if (transactional) {
            String id = o.transactionalId != null ? o.transactionalId
                : "performance-producer-default-transactional-id";
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        }
        Long duration = o.transactionDurationMs;
        if (transactional && duration == null && o.transactionRecords == null) {
            duration = 3000L;
        }

        byte[] payload = new byte[o.recordSize];
        Random random = new Random(0);
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) ('A' + random.nextInt(26));
        }
        Tally tally = new Tally(o.numRecords);
        List<String> failures = new ArrayList<>();
        long committed = 0;
        long start;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            if (transactional) {
                producer.initTransactions();
            }
            // As ProducerPerformance: the first send waits for the topic's metadata, inside
            // the measured time.
            start = System.currentTimeMillis();
            long openSince = -1;
            long inOpen = 0;
            for (long i = 0; i < o.numRecords; i++) {
                if (transactional && openSince < 0) {
                    producer.beginTransaction();
                    openSince = System.currentTimeMillis();
                    inOpen = 0;
                }
                long sentAt = System.currentTimeMillis();
                producer.send(new ProducerRecord<>(o.topic, payload), (metadata, exception) -> {
                    if (exception == null) {
                        tally.acknowledged((int) (System.currentTimeMillis() - sentAt));
                    } else {
                        tally.failed.incrementAndGet();
                        synchronized (failures) {
                            if (failures.size() < 5) {
                                failures.add(exception.toString());
                            }
                        }
                    }
                });
                if (transactional) {
                    inOpen++;
                    long now = System.currentTimeMillis();
                    boolean aged = duration != null && now - openSince >= duration;
                    boolean full = o.transactionRecords != null && inOpen >= o.transactionRecords;
                    if (aged || full) {
                        producer.commitTransaction();
                        committed++;
                        openSince = -1;
                    }
                }
                if (o.throughput > 0) {
                    long dueMs = start + (long) ((i + 1) * 1000.0 / o.throughput);
                    long wait = dueMs - System.currentTimeMillis();
                    if (wait > 0) {
                        Thread.sleep(wait);
                    }
                }
            }
            if (transactional && openSince >= 0) {
                producer.commitTransaction();
                committed++;
            }
            producer.flush();
        }
        long end = System.currentTimeMillis();
        System.out.println(tally.total(end - start, o.recordSize));
        if (transactional) {
            System.err.println("RacePerf: " + committed + " transactions committed");
        }
        if (tally.failed.get() > 0) {
            System.err.println("RacePerf: " + tally.failed.get() + " records failed: " + failures);
            System.exit(1);
        }
    }
}
