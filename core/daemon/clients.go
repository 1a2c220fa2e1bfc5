package daemon

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/proxy"
)

// apiPrefix is the original router's prefix for some gateways: a request
// under it is served as the path that follows.
const apiPrefix = "/api/latest/anthropic"

// stripAPIPrefix serves a request under apiPrefix as the path that follows
// it ("/api/latest/anthropic/v1/messages" as "/v1/messages").
func stripAPIPrefix(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
		if !ok || (rest != "" && rest[0] != '/') {
			next.ServeHTTP(w, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = rest
		if u.Path == "" {
			u.Path = "/"
		}
		if raw, ok := strings.CutPrefix(u.RawPath, apiPrefix); ok {
			u.RawPath = raw
		}
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

// tokenUseInterval is how often the client tokens' last uses are saved.
const tokenUseInterval = time.Minute

// saveTokenUse saves the client tokens' last uses every tokenUseInterval
// and once more when ctx ends.
func (d *Daemon) saveTokenUse(ctx context.Context) {
	t := time.NewTicker(tokenUseInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := d.tokens.Flush(); err != nil {
				d.log.Warn("cannot save when client tokens were last used", "err", err)
			}
			return
		case <-t.C:
			if err := d.tokens.Flush(); err != nil {
				d.log.Warn("cannot save when client tokens were last used", "err", err)
			}
		}
	}
}

// openAIModels answers GET /v1/models: in OpenAI's shape for a client that
// sends no anthropic-version, forwarded as it is for Anthropic's.
func (d *Daemon) openAIModels(w http.ResponseWriter, r *http.Request) {
	if proxy.IsOpenAI(r) {
		d.proxy.ServeOpenAI(w, r)
		return
	}
	d.proxy.ServeHTTP(w, r)
}

// dayUsage is the body of GET /v1/usage: what each account did today
// (local day), every configured account included.
type dayUsage struct {
	Day      string                `json:"day"`   // YYYY-MM-DD, local
	Since    time.Time             `json:"since"` // local midnight
	Accounts []control.UsageBucket `json:"accounts"`
}

// todayUsage answers GET /v1/usage.
func (d *Daemon) todayUsage(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	u := d.usage.Query(since, control.StepDay)
	byName := map[string]control.UsageBucket{}
	for _, b := range u.Buckets {
		if b.Start.Equal(since) {
			byName[b.Account] = b
		}
	}
	out := dayUsage{Day: since.Format(time.DateOnly), Since: since, Accounts: []control.UsageBucket{}}
	for _, s := range d.pool.Snapshots() {
		b, ok := byName[s.Name]
		if !ok {
			b = control.UsageBucket{Start: since, Account: s.Name}
		}
		delete(byName, s.Name)
		out.Accounts = append(out.Accounts, b)
	}
	for _, b := range u.Buckets { // accounts removed since, in the history's order
		if _, ok := byName[b.Account]; ok && b.Start.Equal(since) {
			out.Accounts = append(out.Accounts, b)
		}
	}
	writeJSON(w, out)
}
