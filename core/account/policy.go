package account

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Policy chooses one account among those for which ok returns true, or nil
// when there is none. Policies only choose: availability and cooldowns are
// the accounts' business.
type Policy interface {
	Select(accounts []*Account, ok func(*Account) bool, now time.Time) *Account
}

// Interface guards.
var (
	_ Policy = (*RoundRobin)(nil)
	_ Policy = Priority{}
	_ Policy = LeastUsed{}
	_ Policy = Headroom{}
)

// RoundRobin takes the accounts in turn.
type RoundRobin struct{ next atomic.Uint64 }

// Select implements Policy.
func (r *RoundRobin) Select(accounts []*Account, ok func(*Account) bool, _ time.Time) *Account {
	n := uint64(len(accounts))
	if n == 0 {
		return nil
	}
	start := r.next.Add(1) - 1
	for i := uint64(0); i < n; i++ {
		if a := accounts[(start+i)%n]; ok(a) {
			return a
		}
	}
	return nil
}

// Priority takes the first available account in configuration order.
type Priority struct{}

// Select implements Policy.
func (Priority) Select(accounts []*Account, ok func(*Account) bool, _ time.Time) *Account {
	for _, a := range accounts {
		if ok(a) {
			return a
		}
	}
	return nil
}

// LeastUsed takes the account with the fewest requests in flight, then the
// fewest sent since start; ties go to configuration order.
type LeastUsed struct{}

// Select implements Policy.
func (LeastUsed) Select(accounts []*Account, ok func(*Account) bool, _ time.Time) *Account {
	var best *Account
	var bestIn, bestReq int64
	for _, a := range accounts {
		if !ok(a) {
			continue
		}
		in, req := a.inflight.Load(), a.requests.Load()
		if best == nil || in < bestIn || (in == bestIn && req < bestReq) {
			best, bestIn, bestReq = a, in, req
		}
	}
	return best
}

// Headroom takes the account with the most room left in its 5-hour and
// 7-day windows (the larger utilization of the two counts), as learnt from
// response headers. Accounts not yet heard from count as empty, so they are
// tried and learnt; ties go to fewer requests in flight, then configuration
// order.
type Headroom struct{}

// Select implements Policy.
func (Headroom) Select(accounts []*Account, ok func(*Account) bool, now time.Time) *Account {
	var best *Account
	var bestU float64
	var bestIn int64
	for _, a := range accounts {
		if !ok(a) {
			continue
		}
		u, in := a.utilization(now), a.inflight.Load()
		if best == nil || u < bestU || (u == bestU && in < bestIn) {
			best, bestU, bestIn = a, u, in
		}
	}
	return best
}

// NewPolicy returns the policy for a strategy name of the configuration.
func NewPolicy(strategy string) (Policy, error) {
	switch strategy {
	case "round-robin", "":
		return new(RoundRobin), nil
	case "priority":
		return Priority{}, nil
	case "least-used":
		return LeastUsed{}, nil
	case "headroom":
		return Headroom{}, nil
	}
	return nil, fmt.Errorf("unknown strategy %q (want %s)", strategy, strings.Join([]string{"round-robin", "priority", "least-used", "headroom"}, ", "))
}
