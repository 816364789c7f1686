package window

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
)

// The index expires exactly what walking every id did: same ids, at the same flush, each once, through adds, restores
// with another expiry, tombstones and late ids whose expiry is already behind the watermark.
func TestExpiryIndexMatchesTheWalk(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	seenIdx, seenWalk := map[string]int64{}, map[string]int64{}
	var x expiryIndex
	wm := int64(-5_000)
	for step := 0; step < 400; step++ {
		for i := 0; i < 50; i++ {
			id := fmt.Sprint("e", rng.Intn(3000))
			exp := wm + int64(rng.Intn(20_000)) - 2_000 // some already expired (late), some far ahead
			switch rng.Intn(10) {
			case 0: // a restore tombstone
				delete(seenIdx, id)
				delete(seenWalk, id)
			case 1: // a restore with another expiry
				seenIdx[id], seenWalk[id] = exp, exp
				x.add(id, exp)
			default: // Add: only ids not seen
				if _, dup := seenWalk[id]; !dup {
					seenIdx[id], seenWalk[id] = exp, exp
					x.add(id, exp)
				}
			}
		}
		wm += int64(rng.Intn(700))
		var byIndex, byWalk []string
		x.expire(wm, seenIdx, func(id string) {
			delete(seenIdx, id)
			byIndex = append(byIndex, id)
		})
		for id, exp := range seenWalk {
			if exp <= wm {
				delete(seenWalk, id)
				byWalk = append(byWalk, id)
			}
		}
		sort.Strings(byIndex)
		sort.Strings(byWalk)
		if fmt.Sprint(byIndex) != fmt.Sprint(byWalk) {
			t.Fatalf("step %d (watermark %d): index expired %v, the walk %v", step, wm, byIndex, byWalk)
		}
	}
	if len(seenIdx) != len(seenWalk) {
		t.Fatalf("left %d ids, the walk %d", len(seenIdx), len(seenWalk))
	}
}

func TestExpirySecondFloorsNegativeTimes(t *testing.T) {
	for ms, want := range map[int64]int64{0: 0, 999: 0, 1000: 1, -1: -1, -1000: -1, -1001: -2} {
		if got := expirySecond(ms); got != want {
			t.Errorf("expirySecond(%d) = %d, want %d", ms, got, want)
		}
	}
}
