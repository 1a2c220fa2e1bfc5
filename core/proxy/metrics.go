package proxy

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/maxrouter/maxrouter/core/control"
)

// Metrics counts what the proxy did, for GET /metrics. Counters are
// lock-free on the request path once a (account, status) pair was seen.
type Metrics struct {
	requests  sync.Map // reqKey → *atomic.Uint64
	refreshes sync.Map // account → *atomic.Uint64
	errors    sync.Map // status → *atomic.Uint64: answers MaxRouter made itself
	failovers atomic.Uint64
}

type reqKey struct {
	account string
	status  int
}

func counter(m *sync.Map, k any) *atomic.Uint64 {
	if c, ok := m.Load(k); ok {
		return c.(*atomic.Uint64)
	}
	c, _ := m.LoadOrStore(k, new(atomic.Uint64))
	return c.(*atomic.Uint64)
}

// request counts one upstream attempt on account; status 0 is a connection
// failure.
func (m *Metrics) request(account string, status int) {
	counter(&m.requests, reqKey{account, status}).Add(1)
}

// Refresh counts a token refresh of account.
func (m *Metrics) Refresh(account string) { counter(&m.refreshes, account).Add(1) }

// RouterError counts an answer MaxRouter made itself instead of forwarding
// the request (maxrouter_router_errors_total), such as the daemon's 503
// while routing is paused.
func (m *Metrics) RouterError(status int) { counter(&m.errors, status).Add(1) }

func (m *Metrics) failover() { m.failovers.Add(1) }

// Failovers reports how many times a request moved to another account.
func (m *Metrics) Failovers() uint64 { return m.failovers.Load() }

// WriteTo writes the metrics in Prometheus text format, with the accounts'
// current state as gauges.
func (m *Metrics) WriteTo(w io.Writer, accounts []control.Account) (int64, error) {
	cw := &countWriter{w: w}
	p := func(format string, a ...any) { fmt.Fprintf(cw, format, a...) }

	p("# HELP maxrouter_upstream_requests_total Requests sent upstream, by account and status (0 = connection failed).\n")
	p("# TYPE maxrouter_upstream_requests_total counter\n")
	type row struct {
		k reqKey
		v uint64
	}
	var rows []row
	m.requests.Range(func(k, v any) bool {
		rows = append(rows, row{k.(reqKey), v.(*atomic.Uint64).Load()})
		return true
	})
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.k.account, b.k.account), cmp.Compare(a.k.status, b.k.status))
	})
	for _, r := range rows {
		p("maxrouter_upstream_requests_total{account=%q,status=\"%d\"} %d\n", r.k.account, r.k.status, r.v)
	}

	p("# HELP maxrouter_router_errors_total Answers MaxRouter made itself, by status.\n")
	p("# TYPE maxrouter_router_errors_total counter\n")
	var errs []row
	m.errors.Range(func(k, v any) bool {
		errs = append(errs, row{reqKey{status: k.(int)}, v.(*atomic.Uint64).Load()})
		return true
	})
	slices.SortFunc(errs, func(a, b row) int { return cmp.Compare(a.k.status, b.k.status) })
	for _, r := range errs {
		p("maxrouter_router_errors_total{status=\"%d\"} %d\n", r.k.status, r.v)
	}

	p("# HELP maxrouter_failovers_total Requests retried on another account.\n")
	p("# TYPE maxrouter_failovers_total counter\n")
	p("maxrouter_failovers_total %d\n", m.failovers.Load())

	p("# HELP maxrouter_token_refreshes_total Access token refreshes, by account.\n")
	p("# TYPE maxrouter_token_refreshes_total counter\n")
	for _, a := range accounts {
		var n uint64
		if c, ok := m.refreshes.Load(a.Name); ok {
			n = c.(*atomic.Uint64).Load()
		}
		p("maxrouter_token_refreshes_total{account=%q} %d\n", a.Name, n)
	}

	p("# HELP maxrouter_account_state Account state (1 for the current one).\n")
	p("# TYPE maxrouter_account_state gauge\n")
	for _, a := range accounts {
		for _, s := range [...]string{control.StateAvailable, control.StateCooling, control.StateNeedsLogin, control.StateError, control.StateDisabled} {
			v := 0
			if a.State == s {
				v = 1
			}
			p("maxrouter_account_state{account=%q,state=%q} %d\n", a.Name, s, v)
		}
	}
	p("# HELP maxrouter_cooldowns Accounts cooling down now.\n")
	p("# TYPE maxrouter_cooldowns gauge\n")
	cooling := 0
	for _, a := range accounts {
		if a.State == control.StateCooling {
			cooling++
		}
	}
	p("maxrouter_cooldowns %d\n", cooling)
	p("# HELP maxrouter_account_utilization Fraction of a rate-limit window used.\n")
	p("# TYPE maxrouter_account_utilization gauge\n")
	for _, a := range accounts {
		p("maxrouter_account_utilization{account=%q,window=\"five_hour\"} %g\n", a.Name, a.FiveHour.Utilization)
		p("maxrouter_account_utilization{account=%q,window=\"seven_day\"} %g\n", a.Name, a.SevenDay.Utilization)
	}
	return cw.n, cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
	return n, err
}
