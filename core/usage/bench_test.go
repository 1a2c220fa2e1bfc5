package usage_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/usage"
)

// answerer is the part of proxy.Usage the proxy calls per answer (the
// proxy package is not imported here: usage must not depend on it).
type answerer interface {
	Answered(account string, status int, fiveHour, sevenDay float64)
}

// nop does nothing: the cost of the call itself.
type nop struct{}

func (nop) Answered(string, int, float64, float64) {}

// mapCounter is the least a counter shared by requests can do: a mutex
// and a map increment.
type mapCounter struct {
	mu sync.Mutex
	n  map[string]*int64
}

func (c *mapCounter) Answered(account string, _ int, _, _ float64) {
	c.mu.Lock()
	*c.n[account]++
	c.mu.Unlock()
}

// clockMapCounter is mapCounter that also reads the clock, as the Recorder
// must: on a VM time.Now alone can cost more than the rest.
type clockMapCounter struct{ mapCounter }

var sinkHour int64

func (c *clockMapCounter) Answered(account string, _ int, _, _ float64) {
	h := time.Now().Unix() / 3600
	c.mu.Lock()
	*c.n[account]++
	sinkHour = h
	c.mu.Unlock()
}

// BenchmarkAnswered compares Recorder.Answered (with the real clock) with
// an empty call, a bare mutex+map increment and one that also reads the
// clock, through the interface the
// proxy uses, serially and from parallel goroutines.
func BenchmarkAnswered(b *testing.B) {
	accounts := []string{"work", "personal", "spare"}
	rec, err := usage.Open(filepath.Join(b.TempDir(), "usage.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	mc := &mapCounter{n: map[string]*int64{}}
	for _, a := range accounts {
		mc.n[a] = new(int64)
	}
	for _, bm := range []struct {
		name string
		u    answerer
	}{
		{"baseline-empty-call", nop{}},
		{"baseline-mutex-map", mc},
		{"baseline-clock-mutex-map", &clockMapCounter{mapCounter{n: mc.n}}},
		{"recorder", rec},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				bm.u.Answered(accounts[i%3], 200, 0.5, 0.25)
				i++
			}
		})
		b.Run(bm.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					bm.u.Answered(accounts[i%3], 200, 0.5, 0.25)
					i++
				}
			})
		})
	}
}

func TestAnsweredDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r, err := usage.Open(filepath.Join(t.TempDir(), "usage.json"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	r.Answered("work", 200, -1, -1) // the account's first answer this hour allocates
	r.Tokens("work", "ci", usage.Tokens{Input: 1})
	r.Client("ci", false)
	account := string([]byte("work")) // not the same string as the key
	client := string([]byte("ci"))
	got := testing.AllocsPerRun(1000, func() {
		r.Client(client, false)
		r.Answered(account, 429, 0.5, 0.25)
		r.Tokens(account, client, usage.Tokens{Input: 1, Output: 2})
	})
	if got != 0 {
		t.Errorf("Client, Answered and Tokens allocate %v times per call, want 0", got)
	}
}

// BenchmarkClient is what recording a client token's request costs, beside
// an account's answer (BenchmarkAnswered).
func BenchmarkClient(b *testing.B) {
	rec, err := usage.Open(filepath.Join(b.TempDir(), "usage.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("answered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec.Answered("work", 200, 0.5, 0.25)
		}
	})
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec.Client("0a1b2c3d4e5f6a7b", false)
		}
	})
}
