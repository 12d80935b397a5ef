package state_test

import (
	"strconv"
	"testing"

	"github.com/livemod/livemod/state"
)

// BenchmarkReplyCapsRecord records replies among 200,000 users who all
// stay within the window (an hour of a big show): the cost of a Record
// must not grow with the users tracked.
func BenchmarkReplyCapsRecord(b *testing.B) {
	const users = 200000
	c := state.NewMemoryReplyCaps(3, 3600_000)
	ids := make([]string, users)
	for i := range ids {
		ids[i] = "youtube:" + strconv.Itoa(i)
		c.Record(ids[i], 1)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Record(ids[i%users], 2+int64(i)/1000)
		i++
	}
}
