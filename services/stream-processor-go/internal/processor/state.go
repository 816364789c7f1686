package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnsureStateTopic creates the compacted changelog (one partition per source partition) if missing,
// and fails when an existing one has fewer partitions than the source topic.
func EnsureStateTopic(ctx context.Context, adm *kadm.Client, source, state string) error {
	details, err := adm.ListTopics(ctx, source, state)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	src, ok := details[source]
	if !ok || src.Err != nil {
		return fmt.Errorf("source topic %s does not exist (topics are created by the infra CLI)", source)
	}
	want := int32(len(src.Partitions))
	if st, ok := details[state]; ok && st.Err == nil {
		if int32(len(st.Partitions)) < want {
			return fmt.Errorf("state topic %s has %d partitions, source %s has %d", state, len(st.Partitions), source, want)
		}
		return nil
	}
	rf := int16(len(src.Partitions[0].Replicas))
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, want, rf, map[string]*string{"cleanup.policy": &compact}, state)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) { // another instance won the race
		return fmt.Errorf("creating state topic %s: %w", state, err)
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
