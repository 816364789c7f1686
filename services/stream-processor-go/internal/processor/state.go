package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// stateLayout maps the stateful input partitions onto the changelog's partitions: the raw topic's first, then the
// payments repartition topic's (the TS stage's ChangelogLayout), so each input partition's state is one changelog
// partition, restored on its own.
type stateLayout struct {
	topics []string
	counts []int32
}

// statePartition is the changelog partition holding the state of a stateful input partition.
func (l stateLayout) statePartition(topic string, partition int32) (int32, bool) {
	var base int32
	for i, t := range l.topics {
		if t == topic {
			return base + partition, partition >= 0 && partition < l.counts[i]
		}
		base += l.counts[i]
	}
	return 0, false
}

// source is the input topic and partition whose state a changelog partition holds.
func (l stateLayout) source(state int32) (string, int32) {
	for i, t := range l.topics {
		if state < l.counts[i] {
			return t, state
		}
		state -= l.counts[i]
	}
	return "", -1
}

func (l stateLayout) total() int32 {
	var n int32
	for _, c := range l.counts {
		n += c
	}
	return n
}

// EnsureStateTopic creates the compacted changelog (one partition per stateful input partition, see stateLayout) if
// missing, grows an existing one that has fewer (e.g. payment metrics enabled on a raw-only changelog: the new
// partitions are the repartition topic's, records are placed by partition so none moves), and returns the layout.
func EnsureStateTopic(ctx context.Context, adm *kadm.Client, sources []string, state string) (stateLayout, error) {
	details, err := adm.ListTopics(ctx, append([]string{state}, sources...)...)
	if err != nil {
		return stateLayout{}, fmt.Errorf("listing topics: %w", err)
	}
	layout := stateLayout{topics: sources}
	for _, source := range sources {
		src, ok := details[source]
		if !ok || src.Err != nil || len(src.Partitions) == 0 {
			return stateLayout{}, fmt.Errorf("source topic %s does not exist (topics are created by the infra CLI)", source)
		}
		layout.counts = append(layout.counts, int32(len(src.Partitions)))
	}
	want := layout.total()
	if st, ok := details[state]; ok && st.Err == nil {
		if have := int32(len(st.Partitions)); have < want {
			resp, err := adm.UpdatePartitions(ctx, int(want), state)
			if err == nil {
				err = resp.Error()
			}
			if err != nil && !errors.Is(err, kerr.InvalidPartitions) { // InvalidPartitions: another instance grew it first
				return stateLayout{}, fmt.Errorf("state topic %s has %d partitions, %v need %d (%v); growing it failed, grow it to %d (npm run infra -- up does, from infra/topology.yaml): %w", state, have, sources, want, layout.counts, want, err)
			}
		}
		return layout, nil
	}
	rf := int16(len(details[sources[0]].Partitions[0].Replicas))
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, want, rf, map[string]*string{"cleanup.policy": &compact}, state)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) { // another instance won the race
		return stateLayout{}, fmt.Errorf("creating state topic %s: %w", state, err)
	}
	return layout, nil
}

// ensureRepartitionTopicWith runs ensureRepartitionTopic on a short-lived client of its own (before the group session).
func ensureRepartitionTopicWith(cfg *config.Config) error {
	cl, err := kgo.NewClient(cfg.KafkaOpts()...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return ensureRepartitionTopic(ctx, kadm.NewClient(cl), cfg.RawTopic, cfg.PaymentsRepartitionTopic)
}

// ensureRepartitionTopic creates the payments repartition topic (one partition: every payment window in one state)
// when it is missing, as the TS stage's ensureRepartitionTopic; infra declares it, tests let the processor make it.
func ensureRepartitionTopic(ctx context.Context, adm *kadm.Client, like, topic string) error {
	details, err := adm.ListTopics(ctx, like, topic)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	if t, ok := details[topic]; ok && t.Err == nil {
		return nil
	}
	src, ok := details[like]
	if !ok || src.Err != nil || len(src.Partitions) == 0 {
		return fmt.Errorf("topic %s does not exist (topics are created by the infra CLI)", like)
	}
	resp, err := adm.CreateTopic(ctx, 1, int16(len(src.Partitions[0].Replicas)), nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating repartition topic %s: %w", topic, err)
	}
	return nil
}

// restoreStores rebuilds the window state of the given source partitions from their changelog
// partitions, reading committed records up to the last stable offset. conn are the brokers and security options
// (config.KafkaOpts) of its own short-lived client.
func restoreStores(ctx context.Context, conn []kgo.Opt, adm *kadm.Client, topic string, partitions []int32, cfg *window.Config, now time.Time) (map[int32]*window.Store, error) {
	stores := map[int32]*window.Store{}
	starts, ends, err := stateOffsets(ctx, adm, topic, partitions)
	if err != nil {
		return nil, err
	}
	remaining := map[int32]int64{} // partition -> last offset still to read
	offsets := map[int32]kgo.Offset{}
	for _, p := range partitions {
		stores[p] = window.NewStore(cfg, now)
		if ends[p] > starts[p] {
			remaining[p] = ends[p] - 1
			offsets[p] = kgo.NewOffset().At(starts[p])
		}
	}
	if len(remaining) == 0 {
		return stores, nil
	}
	cl, err := kgo.NewClient(append(conn,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers are the last offsets of the log: without them the end could never be seen.
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500*time.Millisecond),
	)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for len(remaining) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("restoring state: %w (partitions left: %v)", err, remaining)
		}
		var fetchErr error
		fetches.EachError(func(_ string, p int32, err error) { fetchErr = fmt.Errorf("state partition %d: %w", p, err) })
		if fetchErr != nil {
			return nil, fetchErr
		}
		var applyErr error
		fetches.EachRecord(func(r *kgo.Record) {
			last, ok := remaining[r.Partition]
			if !ok || applyErr != nil {
				return
			}
			if !r.Attrs.IsControl() && r.Offset <= last {
				applyErr = stores[r.Partition].Restore(string(r.Key), r.Value)
			}
			if r.Offset >= last {
				delete(remaining, r.Partition)
			}
		})
		if applyErr != nil {
			return nil, applyErr
		}
	}
	legacy := 0
	for _, s := range stores {
		n, err := s.FinishRestore()
		if err != nil {
			return nil, err
		}
		legacy += n
	}
	if legacy > 0 {
		slog.Warn("restored windows from a changelog written before the shared sketches (issue #15): their percentiles and distinct counts cover only events from now on", "windows", legacy)
	}
	return stores, nil
}

// stateOffsets returns the log start and last stable offset of each partition, retrying for a while
// because a just-created state topic is not known to every broker at once.
func stateOffsets(ctx context.Context, adm *kadm.Client, topic string, partitions []int32) (starts, ends map[int32]int64, err error) {
	for attempt := 0; ; attempt++ {
		starts, ends, err = listStateOffsets(ctx, adm, topic, partitions)
		if err == nil || attempt >= 50 {
			return starts, ends, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func listStateOffsets(ctx context.Context, adm *kadm.Client, topic string, partitions []int32) (map[int32]int64, map[int32]int64, error) {
	lso, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		return nil, nil, fmt.Errorf("listing state offsets: %w", err)
	}
	first, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, nil, fmt.Errorf("listing state offsets: %w", err)
	}
	starts, ends := map[int32]int64{}, map[int32]int64{}
	for _, p := range partitions {
		end, ok1 := lso.Lookup(topic, p)
		start, ok2 := first.Lookup(topic, p)
		if !ok1 || !ok2 || end.Err != nil || start.Err != nil {
			return nil, nil, fmt.Errorf("no offsets for state partition %d of %s", p, topic)
		}
		starts[p], ends[p] = start.Offset, end.Offset
	}
	return starts, ends, nil
}
