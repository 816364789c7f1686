package processor

import (
	"strconv"
	"time"

	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	commonv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/common/v1"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	source          = "stream-processor-go"
	protobufContent = "application/protobuf"
)

// enveloped wraps a payload the way @tessera/kafka does (EventEnvelope value + ce_* headers); trace holds
// the W3C fields of the emitting span (traceparent, tracestate), in the envelope and as headers, or is nil.
func enveloped(topic, key, id, typ string, at time.Time, payload proto.Message, trace map[string]string, extra ...kgo.RecordHeader) (*kgo.Record, error) {
	data, err := proto.Marshal(payload)
	if err != nil {
		return nil, err
	}
	value, err := proto.Marshal(&commonv1.EventEnvelope{
		Id: id, Type: typ, Source: source, Subject: key, Time: timestamppb.New(at), SchemaVersion: 1,
		Traceparent: trace[TraceparentHeader], Tracestate: trace[TracestateHeader],
		DataContentType: protobufContent, Data: data,
	})
	if err != nil {
		return nil, err
	}
	headers := append(extra,
		kgo.RecordHeader{Key: "ce_id", Value: []byte(id)},
		kgo.RecordHeader{Key: "ce_type", Value: []byte(typ)},
		kgo.RecordHeader{Key: "ce_source", Value: []byte(source)},
		kgo.RecordHeader{Key: "ce_subject", Value: []byte(key)},
		kgo.RecordHeader{Key: "content-type", Value: []byte(protobufContent)},
	)
	for _, k := range []string{TraceparentHeader, TracestateHeader} { // envelopeHeaders: only when set
		if v := trace[k]; v != "" {
			headers = append(headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
	}
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: value, Headers: headers}, nil
}

// aggregateRecord: key = window_key, envelope id = window_key#revision (consumers dedupe on it); trace is
// the batch span's context (its trace id is also agg.trace_id).
func aggregateRecord(topic string, agg *analyticsv1.WindowAggregate, trace map[string]string) (*kgo.Record, error) {
	id := agg.WindowKey + "#" + strconv.FormatInt(agg.Revision, 10)
	// tenant-id header as the Node processor sets it (consumers can route or filter without decoding).
	return enveloped(topic, agg.WindowKey, id, windowAggregateType, agg.ComputedAt.AsTime(), agg, trace,
		kgo.RecordHeader{Key: "tenant-id", Value: []byte(agg.TenantId)})
}

// deadLetterRecord keeps the original key and bytes so a replay can re-drive the record unchanged.
func deadLetterRecord(topic, group string, src *kgo.Record, rej *Rejection, now time.Time) (*kgo.Record, error) {
	dl := &analyticsv1.DeadLetter{
		Topic: src.Topic, Partition: src.Partition, Offset: src.Offset, ReasonCode: rej.Code, Reason: truncate(rej.Reason, 500),
		Attempts: 1, Payload: src.Value, FailedAt: timestamppb.New(now),
	}
	id := src.Topic + "/" + strconv.Itoa(int(src.Partition)) + "/" + strconv.FormatInt(src.Offset, 10)
	return enveloped(topic, string(src.Key), id, deadLetterType, now, dl, nil, // no trace context, as deadLetterMessage in Node
		kgo.RecordHeader{Key: "dlq-reason", Value: []byte(truncate(rej.Reason, 500))},
		kgo.RecordHeader{Key: "dlq-error-code", Value: []byte(rej.Code)},
		kgo.RecordHeader{Key: "dlq-original-topic", Value: []byte(src.Topic)},
		kgo.RecordHeader{Key: "dlq-original-partition", Value: []byte(strconv.Itoa(int(src.Partition)))},
		kgo.RecordHeader{Key: "dlq-original-offset", Value: []byte(strconv.FormatInt(src.Offset, 10))},
		kgo.RecordHeader{Key: "dlq-consumer-group", Value: []byte(group)},
		kgo.RecordHeader{Key: "dlq-failed-at", Value: []byte(now.UTC().Format(time.RFC3339Nano))},
	)
}

// partitioner sends changelog records to the partition named on the record (the source partition
// whose state they hold) and hashes everything else by key (murmur2, as Java and kafkajs do).
type partitioner struct {
	stateTopic string
	manual     kgo.Partitioner
	keyed      kgo.Partitioner
}

func (p partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic == p.stateTopic {
		return p.manual.ForTopic(topic)
	}
	return p.keyed.ForTopic(topic)
}
