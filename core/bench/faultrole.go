package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
)

// fault is one kind of misbehaviour the fault run injects: one account of
// the daemon gets it on every request it sends upstream.
type fault struct {
	name  string
	about string
	reply anthropictest.Reply
}

// Fault kinds, and the account that always answers.
const (
	kindHealthy   = "healthy"
	kindSpent     = "spent"
	kindThrottle  = "throttle"
	kindOverload  = "overload"
	kindReset     = "reset"
	kindHang      = "hang"
	kindSilent    = "silent"
	kindMidError  = "midstream-error"
	kindTokenHang = "token-hang"
	kindOther     = "other" // a token the fake does not know
)

// spentFor is how long after each 429 the spent account's window resets:
// short, so that it comes back and is spent again during the run.
const spentFor = 3 * time.Second

// faults are the kinds a fault run can inject, in report order.
var faults = []fault{
	{kindSpent, "429 with unified rate-limit headers (spent; window resets 3s later)", anthropictest.RateLimitedFor(spentFor)},
	{kindThrottle, "bare 429, no rate-limit headers (throttled)", anthropictest.Throttled},
	{kindOverload, "529 overloaded_error", anthropictest.Overloaded},
	{kindReset, "connection reset before any response byte", anthropictest.Reset},
	{kindHang, "no response headers until the daemon gives up", anthropictest.Hang},
	{kindSilent, "streams: 200, message_start, then silence (other requests answered)", streamsOnly(anthropictest.SilentAfterFirstEvent)},
	{kindMidError, "streams: 200 ending in event: error (overloaded_error) after content (other requests answered)", streamsOnly(anthropictest.MidStreamError("overloaded_error"))},
	// The access token of this account is expired: the daemon must refresh
	// it against a token endpoint that never answers. Should the daemon use
	// the expired token anyway, the fake rejects it as the API would.
	{kindTokenHang, "access token expired; the token endpoint hangs", anthropictest.Unauthorized},
}

// streamsOnly gives streaming requests reply and answers the others as a
// healthy account does: a fault of event streams only.
func streamsOnly(reply anthropictest.Reply) anthropictest.Reply {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if bytes.Contains(body, []byte(`"stream":true`)) {
			reply(w, r, body)
			return
		}
		anthropictest.OK(w, r, body)
	}
}

// faultNamed finds a fault kind by name.
func faultNamed(name string) (fault, bool) {
	for _, f := range faults {
		if f.name == name {
			return f, true
		}
	}
	return fault{}, false
}

// parseFaults reads the -fault flag: a comma-separated list of kinds,
// "all" or "none".
func parseFaults(s string) ([]string, error) {
	switch strings.TrimSpace(s) {
	case "", "all":
		var all []string
		for _, f := range faults {
			all = append(all, f.name)
		}
		return all, nil
	case "none":
		return nil, nil
	}
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if _, ok := faultNamed(name); !ok {
			return nil, fmt.Errorf("unknown fault %q (want all, none or a comma-separated list of: %s)", name, faultNames())
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// faultNames lists the kinds of fault, comma-separated.
func faultNames() string {
	var names []string
	for _, f := range faults {
		names = append(names, f.name)
	}
	return strings.Join(names, ", ")
}

// accessToken is the access token of the account that gets kind: the fake
// upstream tells the accounts apart by it.
func accessToken(kind string) string { return "sk-ant-oat01-fault-" + kind }

const (
	// roleFaults is the fake upstream of the fault run.
	roleFaults = "faults"
	// faultsEnv lists the kinds the faults role injects.
	faultsEnv = "MAXROUTER_BENCH_FAULTS"
	// requestIDHeader numbers each client request, so the fake can tell
	// which accounts the daemon tried for it. The daemon forwards it.
	requestIDHeader = "X-Bench-Request-Id"
	// tokenPath is where the fake token endpoint listens.
	tokenPath = "/v1/oauth/token"
	// reportPath is where the bench asks the fake what it saw.
	reportPath = "/_bench/report"
)

// faultUpstream is the fake Anthropic API of the fault run: one account
// that always answers, one per injected fault, and a token endpoint that
// hangs. It remembers, per client request, the kind of every attempt the
// daemon made upstream.
type faultUpstream struct {
	fake    *anthropictest.Fake
	token   *anthropictest.TokenEndpoint
	kinds   []string       // index → kind
	byToken map[string]int // access token → index in kinds

	mu       sync.Mutex
	attempts map[uint64][]try // request ID → its attempts, in order
	counts   []int            // per kind: attempts, with or without an ID
}

// try is one attempt of the daemon: the account's kind and how long the
// fake took to answer it.
type try struct {
	kind uint8
	took time.Duration // -1 while it runs
}

// newFaultUpstream returns the fake for the kinds named in the
// comma-separated list (which may be empty).
func newFaultUpstream(list string) (*faultUpstream, error) {
	u := &faultUpstream{
		fake:     anthropictest.NewHandler(),
		token:    &anthropictest.TokenEndpoint{Hang: true},
		kinds:    []string{kindHealthy},
		byToken:  map[string]int{accessToken(kindHealthy): 0},
		attempts: map[uint64][]try{},
	}
	u.fake.Events = events
	u.fake.StreamDelay = pace
	if list != "" {
		for name := range strings.SplitSeq(list, ",") {
			f, ok := faultNamed(name)
			if !ok {
				return nil, fmt.Errorf("unknown fault %q in %s", name, faultsEnv)
			}
			u.byToken[accessToken(name)] = len(u.kinds)
			u.kinds = append(u.kinds, name)
			u.fake.On(accessToken(name), f.reply)
		}
	}
	u.kinds = append(u.kinds, kindOther)
	u.counts = make([]int, len(u.kinds))
	return u, nil
}

func (u *faultUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case tokenPath:
		u.token.ServeHTTP(w, r)
		return
	case reportPath:
		u.serveReport(w, r)
		return
	}
	k, ok := u.byToken[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		k = len(u.kinds) - 1 // other
	}
	id, err := strconv.ParseUint(r.Header.Get(requestIDHeader), 10, 64)
	tracked := err == nil
	start := time.Now()
	u.mu.Lock()
	u.counts[k]++
	i := -1
	if tracked {
		i = len(u.attempts[id])
		u.attempts[id] = append(u.attempts[id], try{kind: uint8(k), took: -1})
	}
	u.mu.Unlock()
	u.fake.ServeHTTP(w, r)
	if tracked {
		u.mu.Lock()
		u.attempts[id][i].took = time.Since(start)
		u.mu.Unlock()
	}
}

// upstreamReport is what the fake saw, as the bench reads it at the end.
type upstreamReport struct {
	Kinds []kindCount `json:"kinds"`
	// Attempts lists, for each request ID the bench asked about, the
	// daemon's attempts, in order (none: it never reached the upstream).
	Attempts map[uint64][]attempt `json:"attempts"`
	// TokenRequests counts requests to the token endpoint; TokenWaiting
	// those it still holds.
	TokenRequests int `json:"token_requests"`
	TokenWaiting  int `json:"token_waiting"`
}

// attempt is one request the daemon sent upstream for a client request.
type attempt struct {
	Kind string `json:"kind"`
	// MS is how long the fake took over it, until its reply returned (-1:
	// not yet), in milliseconds.
	MS float64 `json:"ms"`
}

// kindCount is what one account's kind saw.
type kindCount struct {
	Kind     string `json:"kind"`
	Attempts int    `json:"attempts"`
	// FailedOver counts attempts after which the daemon tried another
	// account for the same client request; Last those after which it
	// tried no other (the client got this account's answer, or nothing).
	FailedOver int `json:"failed_over"`
	Last       int `json:"last"`
}

// serveReport answers POST reportPath with {"ids": [...]}: the counts per
// kind and the attempts of the requests asked about.
func (u *faultUpstream) serveReport(w http.ResponseWriter, r *http.Request) {
	var q struct {
		IDs []uint64 `json:"ids"`
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rep := upstreamReport{Attempts: map[uint64][]attempt{}}
	rep.TokenRequests, rep.TokenWaiting = u.token.Requests()
	u.mu.Lock()
	rep.Kinds = make([]kindCount, len(u.kinds))
	for i, k := range u.kinds {
		rep.Kinds[i] = kindCount{Kind: k, Attempts: u.counts[i]}
	}
	for _, ts := range u.attempts {
		for i, t := range ts {
			if i < len(ts)-1 {
				rep.Kinds[t.kind].FailedOver++
			} else {
				rep.Kinds[t.kind].Last++
			}
		}
	}
	for _, id := range q.IDs {
		as := []attempt{}
		for _, t := range u.attempts[id] {
			a := attempt{Kind: u.kinds[t.kind], MS: -1}
			if t.took >= 0 {
				a.MS = ms(t.took)
			}
			as = append(as, a)
		}
		rep.Attempts[id] = as
	}
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

// faultsHandler builds the faults role's handler from its environment.
func faultsHandler() (http.Handler, error) {
	return newFaultUpstream(os.Getenv(faultsEnv))
}
