package usage

import (
	"github.com/maxrouter/maxrouter/core/control"
)

// Labelled returns u, buckets of client tokens (Recorder.QueryClients),
// with each bucket's Label set from tokens: the label of the token with
// its ID, "" for a token no longer in the list.
func Labelled(u control.Usage, tokens []control.Token) control.Usage {
	labels := make(map[string]string, len(tokens))
	for _, t := range tokens {
		labels[t.ID] = t.Label
	}
	for i := range u.Buckets {
		u.Buckets[i].Label = labels[u.Buckets[i].Token]
	}
	return u
}
