package account

import (
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/ratelimit"
)

// BenchmarkPickObserve is what the pool adds to every request: pick an
// account (with a session), then record the headers of its answer at the
// time the proxy read for its verdict.
func BenchmarkPickObserve(b *testing.B) {
	p, err := NewPool(Options{Affinity: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	var accts []*Account
	for _, n := range []string{"a", "b", "c"} {
		accts = append(accts, New(n, "", fakeCred{"sk-ant-oat01-test-" + n}, nil))
	}
	p.SetAccounts(accts)
	in := ratelimit.Info{
		Present: true, Status: ratelimit.Allowed, Claim: ratelimit.FiveHour, Reset: time.Now().Add(3 * time.Hour),
		FiveHour: ratelimit.Window{Status: ratelimit.Allowed, Utilization: 0.25, HasUtilization: true, Reset: time.Now().Add(3 * time.Hour)},
		SevenDay: ratelimit.Window{Status: ratelimit.Allowed, Utilization: 0.1, HasUtilization: true, Reset: time.Now().Add(100 * time.Hour)},
	}
	r := &Request{Family: "sonnet", Session: "5b1c0d6e-3f1a-4c7e-9a57-2d8f61b4c0aa"}
	b.ReportAllocs()
	for b.Loop() {
		a, err := p.Pick(r)
		if err != nil {
			b.Fatal(err)
		}
		done := a.Begin()
		now := time.Now() // the proxy reads it for its verdict
		p.ObserveAt(a, in, ratelimit.Verdict{}, r.Family, now)
		done()
	}
}
