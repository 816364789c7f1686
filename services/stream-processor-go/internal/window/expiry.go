package window

import "container/heap"

// expiryIndex finds the dedup ids whose expiry the watermark has passed without walking every id: at 5,000 events/s
// and a 2-minute horizon a store holds ~600k ids, and Flush used to range over all of them at every poll (most of the
// stage's CPU under live load). Ids are kept in buckets by the second their expiry falls in, with a min-heap of those
// seconds; Flush visits only the buckets the watermark has reached. An entry is a hint, checked against seen: an id
// expired or restored since with another expiry is skipped, so the index never needs deleting from.
type expiryIndex struct {
	buckets map[int64][]string
	order   secondsHeap
}

func expirySecond(ms int64) int64 {
	s := ms / 1000
	if ms%1000 < 0 {
		s--
	}
	return s
}

func (x *expiryIndex) add(id string, expMs int64) {
	if x.buckets == nil {
		x.buckets = map[int64][]string{}
	}
	b := expirySecond(expMs)
	ids, ok := x.buckets[b]
	if !ok {
		heap.Push(&x.order, b)
	}
	x.buckets[b] = append(ids, id)
}

// expire calls drop for every id of seen whose expiry is at or before watermarkMs, exactly those, each once.
func (x *expiryIndex) expire(watermarkMs int64, seen map[string]int64, drop func(id string)) {
	for x.order.Len() > 0 {
		b := x.order[0]
		if b*1000 > watermarkMs { // the earliest expiry this bucket can hold is still ahead
			return
		}
		ids := x.buckets[b]
		keep := ids[:0]
		for _, id := range ids {
			exp, ok := seen[id]
			if !ok || expirySecond(exp) != b {
				continue // expired already, or restored with another expiry (indexed under that one)
			}
			if exp <= watermarkMs {
				drop(id)
			} else {
				keep = append(keep, id)
			}
		}
		if len(keep) > 0 { // the watermark is inside this second: the later buckets cannot expire yet
			x.buckets[b] = keep
			return
		}
		delete(x.buckets, b)
		heap.Pop(&x.order)
	}
}

type secondsHeap []int64

func (h secondsHeap) Len() int           { return len(h) }
func (h secondsHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h secondsHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *secondsHeap) Push(v any)        { *h = append(*h, v.(int64)) }
func (h *secondsHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
