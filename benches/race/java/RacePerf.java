/*
 * The race's Java client: Kafka's Java producer with ProducerPerformance's workload, options
 * and total line, plus what ProducerPerformance cannot do. Written for the race; compiled by
 * it with the JDK's javac against the Kafka distribution's client jars.
 *
 * As ProducerPerformance: records of --record-size random uppercase letters drawn afresh per
 * record (SplittableRandom seeded 0), sent as fast as --throughput allows, each with a
 * callback that notes its latency (from just before send() to the callback, in whole ms);
 * latencies sampled as ProducerPerformance samples them (at most about 500,000 kept); the
 * total line printed after the producer is closed; client.id perf-producer-client unless
 * given; producer properties from
 * --command-property / --producer-props and --command-config / --producer.config.
 *
 * Beyond it:
 * - the topic's metadata is fetched (partitionsFor) before the clock starts, so no client of
 *   the race counts that wait in its time;
 * - --keys N: keyed records, key = the decimal of k as UTF-8, k drawn from Zipf(s = 1.1)
 *   over 0..N (P(k) proportional to 1 / (k + 1)^1.1), as the race's other clients draw them;
 * - --transaction-records N: each transaction commits once it holds N records (or has been
 *   open --transaction-duration-ms; ProducerPerformance commits by time only).
 *
 * Exit codes: 0; 1 when records failed; 2 on a bad command line.
 *
 * References: Kafka's ProducerPerformance (workload, Stats sampling, total line format).
 */

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class RacePerf {
    private RacePerf() {
    }

    /** A bad command line: exit code 2. */
    private static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
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
        Integer keys;
        final Properties properties = new Properties();

        private static String value(String[] args, int i, String flag) throws UsageException {
            if (i >= args.length) {
                throw new UsageException(flag + " needs a value");
            }
            return args[i];
        }

        static Options parse(String[] args) throws UsageException, IOException {
            Options o = new Options();
            int i = 0;
            try {
                while (i < args.length) {
                    String flag = args[i++];
                    switch (flag) {
                        case "--topic": o.topic = value(args, i++, flag); break;
                        case "--num-records":
                            o.numRecords = Long.parseLong(value(args, i++, flag));
                            break;
                        case "--record-size":
                            o.recordSize = Integer.parseInt(value(args, i++, flag));
                            break;
                        case "--throughput":
                            o.throughput = Double.parseDouble(value(args, i++, flag));
                            break;
                        case "--transactional-id": o.transactionalId = value(args, i++, flag); break;
                        case "--transaction-duration-ms":
                            o.transactionDurationMs = Long.parseLong(value(args, i++, flag));
                            break;
                        case "--transaction-records":
                            o.transactionRecords = Long.parseLong(value(args, i++, flag));
                            break;
                        case "--keys":
                            o.keys = Integer.parseInt(value(args, i++, flag));
                            if (o.keys < 1) {
                                throw new UsageException("--keys must be at least 1");
                            }
                            break;
                        case "--command-config":
                        case "--producer.config":
                            try (InputStream in = new FileInputStream(value(args, i++, flag))) {
                                o.properties.load(in);
                            }
                            break;
                        case "--command-property":
                        case "--producer-props":
                            while (i < args.length && !args[i].startsWith("--")) {
                                String pair = args[i++];
                                int eq = pair.indexOf('=');
                                if (eq <= 0) {
                                    throw new UsageException("not KEY=VALUE: " + pair);
                                }
                                o.properties.setProperty(pair.substring(0, eq), pair.substring(eq + 1));
                            }
                            break;
                        default:
                            throw new UsageException("unknown option " + flag);
                    }
                }
            } catch (NumberFormatException e) {
                throw new UsageException("not a number: " + e.getMessage());
            }
            if (o.topic == null || o.numRecords < 0 || o.recordSize < 0) {
                throw new UsageException("--topic, --num-records and --record-size are required");
            }
            return o;
        }

        boolean transactional() {
            return transactionalId != null || transactionDurationMs != null
                || transactionRecords != null;
        }
    }

    /** Latencies of acknowledged records (sampled as ProducerPerformance's Stats), failures. */
    private static final class Tally {
        private final int sampling;
        private final int[] latencies;
        private int index;
        private long count;
        private long sum;
        private int max;
        final AtomicLong failed = new AtomicLong();

        Tally(long records) {
            long kept = Math.max(1, Math.min(records, 500_000));
            sampling = (int) Math.max(1, records / kept);
            latencies = new int[(int) (records / sampling) + 1];
        }

        synchronized void acknowledged(long iteration, int latencyMs) {
            count++;
            sum += latencyMs;
            max = Math.max(max, latencyMs);
            if (iteration % sampling == 0 && index < latencies.length) {
                latencies[index++] = latencyMs;
            }
        }

        synchronized String total(long elapsedMs, int recordSize) {
            double seconds = Math.max(elapsedMs, 1) / 1000.0;
            double perSecond = count / seconds;
            double mbPerSecond = perSecond * recordSize / (1024.0 * 1024.0);
            int[] sorted = Arrays.copyOf(latencies, index);
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
            int i = (int) Math.min(sorted.length - 1, quantile * sorted.length);
            return sorted[i];
        }
    }

    /** Keys k = 0..n-1 drawn from Zipf(s): P(k) proportional to 1 / (k + 1)^s. */
    private static final class ZipfKeys {
        private final double[] cumulative;
        private final byte[][] encoded;
        private final SplittableRandom random = new SplittableRandom(1);

        ZipfKeys(int n, double s) {
            cumulative = new double[n];
            encoded = new byte[n][];
            double total = 0;
            for (int k = 0; k < n; k++) {
                total += 1.0 / Math.pow(k + 1, s);
                cumulative[k] = total;
                encoded[k] = Integer.toString(k).getBytes(StandardCharsets.UTF_8);
            }
        }

        byte[] next() {
            double u = random.nextDouble() * cumulative[cumulative.length - 1];
            int found = Arrays.binarySearch(cumulative, u);
            int k = found >= 0 ? found : -found - 1;
            return encoded[Math.min(k, encoded.length - 1)];
        }
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (UsageException e) {
            System.err.println("RacePerf: " + e.getMessage());
            System.exit(2);
            return;
        }
        Properties props = o.properties;
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "perf-producer-client");
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

        // As ProducerPerformance: one array refilled with fresh letters for every record (the
        // producer copies it into its batch within send()).
        byte[] payload = new byte[o.recordSize];
        SplittableRandom random = new SplittableRandom(0);
        ZipfKeys keys = o.keys == null ? null : new ZipfKeys(o.keys, 1.1);
        Tally tally = new Tally(o.numRecords);
        List<String> failures = new ArrayList<>();
        long committed = 0;
        long start;
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props);
        try {
            if (transactional) {
                producer.initTransactions();
            }
            // The topic's metadata before the clock starts (ProducerPerformance's first send
            // waits for it inside its measured time).
            producer.partitionsFor(o.topic);
            start = System.currentTimeMillis();
            long openSince = -1;
            long inOpen = 0;
            for (long i = 0; i < o.numRecords; i++) {
                if (transactional && openSince < 0) {
                    producer.beginTransaction();
                    openSince = System.currentTimeMillis();
                    inOpen = 0;
                }
                for (int j = 0; j < payload.length; j++) {
                    payload[j] = (byte) (random.nextInt(26) + 65);
                }
                byte[] key = keys == null ? null : keys.next();
                final long iteration = i;
                long sentAt = System.currentTimeMillis();
                producer.send(new ProducerRecord<>(o.topic, key, payload), (metadata, exception) -> {
                    if (exception == null) {
                        tally.acknowledged(iteration, (int) (System.currentTimeMillis() - sentAt));
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
        } finally {
            // As ProducerPerformance: the total is taken after close.
            producer.close();
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
