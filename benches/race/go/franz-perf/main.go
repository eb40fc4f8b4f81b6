// Command franz-perf runs Kafka's ProducerPerformance workload with franz-go (package kgo)
// and prints ProducerPerformance's summary line, as a peer in kiel's race (benches/race).
//
// Build: cd benches/race/go/franz-perf && go build -o <out>
//
//	franz-perf --brokers HOST:PORT[,...] --topic T --num-records N --record-size BYTES
//	    --throughput RATE (-1: as fast as possible) [-X key=value ...] [--keys N]
//
// Each record's value is --record-size fresh random uppercase letters (as the race's
// Payloads makes them); the key is null, or with --keys N the ASCII decimal of k drawn from a
// Zipf distribution over 0..N with exponent 1.1 (P(k) proportional to (k+1)^-1.1: the race's
// keys.rs rule, drawn the same way, from a precomputed cumulative table by binary search,
// with Go's own generator and seed). Records go to --topic at --throughput records/s, held to
// schedule as the race's throttle.rs does (sleeping when at least 2 ms ahead).
//
// # The fast path
//
// Client.Produce with a promise, franz-go's asynchronous produce: it buffers the record
// (blocking while MaxBufferedRecords or MaxBufferedBytes are reached) and calls the promise
// once the record has its outcome; franz-go calls promises one at a time, so the promise
// keeps the tally without locks. Latency runs from just before Produce to the promise. One
// client, GOMAXPROCS as Go sets it (the machine's cores).
//
// # Warm-up
//
// Before the clock starts, a Metadata request for the topic through
// Client.RequestCachedMetadata (franz-go's metadata call): it connects to the cluster and
// checks that the topic has partitions. franz-go has no call that loads its producer's
// partition map ahead of the first Produce: that first Produce still triggers one internal
// metadata load, and the produce connections open then.
//
// # Settings (-X, Java names)
//
//	acks (all/-1, 1, 0)                     kgo.RequiredAcks(AllISRAcks / LeaderAck / NoAck)
//	enable.idempotence=false                kgo.DisableIdempotentWrite (true: the default)
//	linger.ms                               kgo.ProducerLinger
//	batch.size                              kgo.ProducerBatchMaxBytes (franz-go's cap on a batch)
//	buffer.memory                           kgo.MaxBufferedBytes
//	compression.type (none, gzip, snappy,   kgo.ProducerBatchCompression(NoCompression /
//	  lz4, zstd)                              GzipCompression / ...)
//	max.in.flight.requests.per.connection   kgo.MaxProduceRequestsInflightPerBroker (only
//	                                          without idempotence)
//
// Anything not given is franz-go's default, which differs from Java's in places: linger
// 10 ms, batches up to 1,000,012 bytes, snappy compression, at most 50,000 buffered records
// and no byte limit. With buffer.memory the buffer is bounded by bytes and the record cap
// (MaxBufferedRecords, which no Java property sets) is raised to 10,000,000, as the race
// raises librdkafka's queue.buffering.max.messages. What franz-go cannot do: with idempotence it always
// allows 5 Produce requests in flight per broker, so max.in.flight.requests.per.connection
// other than 5 with idempotence exits with code 3; batch.size bounds a batch but is not a
// per-partition batch that is sent when full as Java's is. Plaintext only:
// security.protocol=PLAINTEXT is accepted, any other security setting or other key exits with
// code 2, as does a value that does not parse.
//
// At the end every record has its outcome and exactly one line is printed on stdout:
//
//	1000000 records sent, 250000.000000 records/sec (23.84 MB/sec), 100.00 ms avg latency, 300.00 ms max latency, 90 ms 50th, 200 ms 95th, 250 ms 99th, 290 ms 99.9th.
//
// Failed records are not counted as sent; the first few are printed on stderr and the exit
// code is 1.
//
// References: Kafka tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java;
// franz-go v1.22.3 pkg/kgo/producer.go (Produce), pkg/kgo/config.go (options).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	name              = "franz-perf"
	maxListedFailures = 5
	// maxSamples bounds the latencies kept for the percentiles, as latency.rs does.
	maxSamples = 500_000
	// zipfExponent and maxKeys are keys.rs's.
	zipfExponent = 1.1
	maxKeys      = 10_000_000
	// minSleep is throttle.rs's shortest sleep.
	minSleep = 2 * time.Millisecond
	// idempotentInFlight is what franz-go allows per broker with idempotence.
	idempotentInFlight = 5
	mib                = 1024.0 * 1024.0
)

// properties collects repeated -X key=value flags.
type properties [][2]string

func (p *properties) String() string { return fmt.Sprint(*p) }

func (p *properties) Set(text string) error {
	key, value, ok := strings.Cut(text, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return fmt.Errorf("`%s` is not KEY=VALUE", text)
	}
	*p = append(*p, [2]string{key, strings.TrimSpace(value)})
	return nil
}

// refusal is a property this program refuses, with its exit code.
type refusal struct {
	code    int
	message string
}

func (r *refusal) Error() string { return r.message }

// settings maps the -X properties to franz-go options.
func settings(props properties) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	idempotent := true
	inFlight := -1
	for _, kv := range props {
		key, value := kv[0], kv[1]
		unknownValue := &refusal{2, fmt.Sprintf("`%s=%s`: unknown value", key, value)}
		number := func() (int, error) {
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return 0, &refusal{2, fmt.Sprintf("`%s=%s`: not a number", key, value)}
			}
			return n, nil
		}
		switch key {
		case "acks":
			switch strings.ToLower(value) {
			case "all", "-1":
				opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
			case "1":
				opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
			case "0":
				opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
			default:
				return nil, unknownValue
			}
		case "enable.idempotence":
			switch strings.ToLower(value) {
			case "true":
				idempotent = true
			case "false":
				idempotent = false
			default:
				return nil, unknownValue
			}
		case "linger.ms":
			n, err := number()
			if err != nil {
				return nil, err
			}
			opts = append(opts, kgo.ProducerLinger(time.Duration(n)*time.Millisecond))
		case "batch.size":
			n, err := number()
			if err != nil {
				return nil, err
			}
			if n > math.MaxInt32 {
				return nil, unknownValue
			}
			opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
		case "buffer.memory":
			n, err := number()
			if err != nil {
				return nil, err
			}
			// Bounded by bytes, as Java's buffer is: the record cap is raised out of the
			// way, as the race raises librdkafka's queue.buffering.max.messages.
			opts = append(opts, kgo.MaxBufferedBytes(n), kgo.MaxBufferedRecords(10_000_000))
		case "compression.type":
			var codec kgo.CompressionCodec
			switch value {
			case "none":
				codec = kgo.NoCompression()
			case "gzip":
				codec = kgo.GzipCompression()
			case "snappy":
				codec = kgo.SnappyCompression()
			case "lz4":
				codec = kgo.Lz4Compression()
			case "zstd":
				codec = kgo.ZstdCompression()
			default:
				return nil, unknownValue
			}
			opts = append(opts, kgo.ProducerBatchCompression(codec))
		case "max.in.flight.requests.per.connection":
			n, err := number()
			if err != nil {
				return nil, err
			}
			inFlight = n
		case "security.protocol":
			if !strings.EqualFold(value, "PLAINTEXT") {
				return nil, &refusal{2, fmt.Sprintf("`%s=%s`: this program connects over PLAINTEXT only", key, value)}
			}
		default:
			if strings.HasPrefix(key, "security.") || strings.HasPrefix(key, "ssl.") || strings.HasPrefix(key, "sasl.") {
				return nil, &refusal{2, fmt.Sprintf("`%s=%s`: this program connects over PLAINTEXT only", key, value)}
			}
			return nil, &refusal{2, fmt.Sprintf("unsupported property `%s`", key)}
		}
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
		if inFlight >= 0 {
			opts = append(opts, kgo.MaxProduceRequestsInflightPerBroker(inFlight))
		}
	} else if inFlight >= 0 && inFlight != idempotentInFlight {
		return nil, &refusal{3, fmt.Sprintf(
			"franz-go: no setting for max.in.flight.requests.per.connection=%d with idempotence: "+
				"franz-go allows %d Produce requests in flight per broker when idempotent",
			inFlight, idempotentInFlight)}
	}
	return opts, nil
}

// payloads makes ProducerPerformance's values: size random uppercase letters per record.
type payloads struct {
	rng  *rand.Rand
	size int
}

func newPayloads(size int) *payloads {
	return &payloads{rng: rand.New(rand.NewPCG(0x6b69656c, 0)), size: size}
}

// next returns a fresh value (franz-go keeps it until the record's promise).
func (p *payloads) next() []byte {
	value := make([]byte, p.size)
	for i := 0; i < len(value); i += 8 {
		draw := p.rng.Uint64()
		for j := i; j < len(value) && j < i+8; j++ {
			// 0..=255 scaled to 0..26, as payload.rs does.
			value[j] = 'A' + byte((uint16(byte(draw))*26)>>8)
			draw >>= 8
		}
	}
	return value
}

// zipfKeys draws k from a Zipf distribution over 0..n (exponent zipfExponent).
type zipfKeys struct {
	cdf []float64
	rng *rand.Rand
}

func newZipfKeys(n int) *zipfKeys {
	cdf := make([]float64, n)
	total := 0.0
	for k := range n {
		total += math.Pow(float64(k+1), -zipfExponent)
		cdf[k] = total
	}
	for k := range cdf {
		cdf[k] /= total
	}
	cdf[n-1] = 1
	return &zipfKeys{cdf: cdf, rng: rand.New(rand.NewPCG(0x6b657973, 0))}
}

// next returns the ASCII decimal of the next k, in a fresh slice.
func (z *zipfKeys) next() []byte {
	u := z.rng.Float64()
	k := sort.Search(len(z.cdf), func(i int) bool { return z.cdf[i] > u })
	k = min(k, len(z.cdf)-1)
	return strconv.AppendUint(nil, uint64(k), 10)
}

// recorder keeps ProducerPerformance's statistics, as latency.rs does.
type recorder struct {
	step, count, bytes, totalUs, maxUs int64
	samplesUs                          []int64
}

func newRecorder(expected int64) *recorder {
	step := max((expected+maxSamples-1)/maxSamples, 1)
	return &recorder{step: step, samplesUs: make([]int64, 0, expected/step+1)}
}

func (r *recorder) record(latency time.Duration, bytes int64) {
	us := latency.Microseconds()
	if r.count%r.step == 0 {
		r.samplesUs = append(r.samplesUs, us)
	}
	r.count++
	r.bytes += bytes
	r.totalUs += us
	r.maxUs = max(r.maxUs, us)
}

// summary is ProducerPerformance's summary line for a run that took elapsed (summary.rs's
// format: six decimals for records/s, two for MB/s, the mean and max, whole milliseconds for
// the percentiles).
func (r *recorder) summary(elapsed time.Duration) string {
	seconds := elapsed.Seconds()
	perSecond := func(n float64) float64 {
		if seconds > 0 {
			return n / seconds
		}
		return 0
	}
	sorted := slices.Clone(r.samplesUs)
	slices.Sort(sorted)
	percentile := func(p float64) int64 {
		if len(sorted) == 0 {
			return 0
		}
		i := min(int(float64(len(sorted))*p), len(sorted)-1)
		return int64(math.Floor(float64(sorted[i]) / 1000))
	}
	avg := 0.0
	if r.count > 0 {
		avg = float64(r.totalUs) / float64(r.count) / 1000
	}
	return fmt.Sprintf("%d records sent, %.6f records/sec (%.2f MB/sec), %.2f ms avg latency, "+
		"%.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.",
		r.count, perSecond(float64(r.count)), perSecond(float64(r.bytes)/mib), avg,
		float64(r.maxUs)/1000, percentile(0.5), percentile(0.95), percentile(0.99), percentile(0.999))
}

// throttle holds a sender to target records/s from start (throttle.rs).
type throttle struct {
	start  time.Time
	target float64
}

// pause is how long to sleep after sent records, if at least minSleep.
func (t throttle) pause(sent int64) time.Duration {
	if !(t.target > 0) || math.IsInf(t.target, 0) {
		return 0
	}
	due := time.Duration(float64(sent) / t.target * float64(time.Second))
	ahead := due - time.Since(t.start)
	if ahead < minSleep {
		return 0
	}
	return ahead
}

// warmUp fetches the topic's metadata and checks it has partitions.
func warmUp(ctx context.Context, cl *kgo.Client, topic string) error {
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, t)
	resp, err := cl.RequestCachedMetadata(ctx, req, 0)
	if err != nil {
		return err
	}
	for _, rt := range resp.Topics {
		if rt.Topic == nil || *rt.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			return err
		}
		if len(rt.Partitions) == 0 {
			return errors.New("the topic has no partitions")
		}
		return nil
	}
	return errors.New("the topic is not in the metadata")
}

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	brokers := fs.String("brokers", "", "bootstrap brokers, HOST:PORT[,...]")
	topic := fs.String("topic", "", "topic to produce to")
	numRecords := fs.Int64("num-records", 0, "records to send")
	recordSize := fs.Int("record-size", 0, "bytes of each record's value")
	throughput := fs.Float64("throughput", math.NaN(), "records/s to aim for; -1 for as fast as possible")
	keys := fs.Int64("keys", 0, "keyed records: keys are the decimals of a Zipf-distributed k in 0..N (s = 1.1)")
	var props properties
	fs.Var(&props, "X", "a producer property under its Java name (repeatable), e.g. -X linger.ms=5")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	usage := func(message string) int {
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, message)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usage(fmt.Sprintf("unexpected argument `%s`", fs.Arg(0)))
	case *brokers == "":
		return usage("--brokers is required")
	case *topic == "":
		return usage("--topic is required")
	case *numRecords < 1:
		return usage("--num-records must be at least 1")
	case *recordSize < 1 || *recordSize > 100_000_000:
		return usage("--record-size must be 1..100000000")
	case math.IsNaN(*throughput):
		return usage("--throughput is required")
	case *keys < 0 || *keys > maxKeys:
		return usage(fmt.Sprintf("--keys must be 1..%d", maxKeys))
	}
	opts, err := settings(props)
	if err != nil {
		var r *refusal
		if errors.As(err, &r) {
			fmt.Fprintf(os.Stderr, "%s: %s\n", name, r.message)
			return r.code
		}
		return usage(err.Error())
	}
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.ClientID(name),
	}, opts...)

	cl, err := kgo.NewClient(opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: cannot create the client: %v\n", name, err)
		return 1
	}
	defer cl.Close()
	ctx := context.Background()
	if err := warmUp(ctx, cl, *topic); err != nil {
		fmt.Fprintf(os.Stderr, "%s: cannot fetch the metadata of `%s`: %v\n", name, *topic, err)
		return 1
	}

	var zipf *zipfKeys
	if *keys > 0 {
		zipf = newZipfKeys(int(*keys))
	}
	values := newPayloads(*recordSize)
	stats := newRecorder(*numRecords)
	bytesPerRecord := int64(*recordSize)
	var failed, finished int64
	var failures []string
	done := make(chan struct{})

	start := time.Now()
	schedule := throttle{start: start, target: *throughput}
	for i := range *numRecords {
		sentAt := time.Now()
		r := &kgo.Record{Topic: *topic, Value: values.next()}
		if zipf != nil {
			r.Key = zipf.next()
		}
		// Promises run one at a time, so they share the tally without a lock; main reads it
		// after done is closed.
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err == nil {
				stats.record(time.Since(sentAt), bytesPerRecord)
			} else {
				failed++
				if len(failures) < maxListedFailures {
					failures = append(failures, err.Error())
				}
			}
			finished++
			if finished == *numRecords {
				close(done)
			}
		})
		if pause := schedule.pause(i + 1); pause > 0 {
			time.Sleep(pause)
		}
	}
	if err := cl.Flush(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "%s: flush: %v\n", name, err)
	}
	<-done
	elapsed := time.Since(start)

	fmt.Println(stats.summary(elapsed))
	if failed == 0 {
		return 0
	}
	for _, reason := range failures {
		fmt.Fprintf(os.Stderr, "%s: record failed: %s\n", name, reason)
	}
	fmt.Fprintf(os.Stderr, "%s: %d of %d records failed\n", name, failed, *numRecords)
	return 1
}
