// Package openai translates OpenAI's Chat Completions and Responses APIs to
// and from Anthropic's Messages API, so that clients that speak only
// OpenAI's API can go through MaxRouter like any Anthropic client.
//
// It is pure: requests, answers and event streams go in as bytes and come
// out as bytes, with no network and no state beyond one stream's. The
// proxy (core/proxy) reads the client's body, hands the translated one to
// the same account rotation as Anthropic's own traffic, and passes the
// answer back through ChatAnswer / ResponsesAnswer, or a Stream for an
// event stream, event by event as Anthropic's events arrive.
package openai

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ClaudePrefix starts every Claude model id; such names pass through
// unmapped.
const ClaudePrefix = "claude-"

// The Claude models the default aliases point at.
const (
	Haiku  = "claude-haiku-4-5"
	Sonnet = "claude-sonnet-4-5"
	Opus   = "claude-opus-4-5"
)

// DefaultModels returns the default aliases, OpenAI model name → Claude
// model: small models go to Haiku, large ones to Sonnet, reasoning models
// to Opus.
func DefaultModels() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"gpt-3.5-turbo", "gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5-mini", "gpt-5-nano"} {
		m[n] = Haiku
	}
	for _, n := range []string{"gpt-4", "gpt-4-turbo", "gpt-4o", "gpt-4.1", "gpt-5"} {
		m[n] = Sonnet
	}
	for _, n := range []string{"o1", "o1-mini", "o3", "o3-mini", "o3-pro", "o4-mini"} {
		m[n] = Opus
	}
	return m
}

// Models maps the model names clients send to Claude models. A nil Models
// is DefaultModels.
type Models map[string]string

// Resolve returns the Claude model for name: a claude-* name as it is, an
// alias as mapped, anything else an error that says where aliases are set.
func (m Models) Resolve(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", &RequestError{Param: "model", Message: "model is required"}
	case strings.HasPrefix(name, ClaudePrefix):
		return name, nil
	}
	if m == nil {
		m = DefaultModels()
	}
	if c, ok := m[name]; ok && c != "" {
		return c, nil
	}
	return "", &RequestError{Status: 404, Type: "not_found_error", Code: "model_not_found", Param: "model",
		Message: fmt.Sprintf("model %q is not a Claude model (claude-…) nor an alias in [models] of MaxRouter's config (%s)", name, strings.Join(slices.Sorted(maps.Keys(m.orDefault())), ", "))}
}

func (m Models) orDefault() Models {
	if m == nil {
		return DefaultModels()
	}
	return m
}

// anthropicModels is the body of Anthropic's GET /v1/models.
type anthropicModels struct {
	Data []struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"data"`
}

// openAIModel is one entry of OpenAI's GET /v1/models.
type openAIModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList translates Anthropic's model list into OpenAI's
// ({"object":"list","data":[{"id","object":"model","created","owned_by"}]})
// and adds the aliases of m, owned by "maxrouter", after the Claude models
// in alphabetical order.
func ModelList(anthropic []byte, m Models) ([]byte, error) {
	var in anthropicModels
	if err := json.Unmarshal(anthropic, &in); err != nil {
		return nil, fmt.Errorf("reading the model list: %w", err)
	}
	out := struct {
		Object string        `json:"object"`
		Data   []openAIModel `json:"data"`
	}{Object: "list", Data: []openAIModel{}}
	created := map[string]int64{}
	for _, d := range in.Data {
		c := max(d.CreatedAt.Unix(), 0)
		created[d.ID] = c
		out.Data = append(out.Data, openAIModel{ID: d.ID, Object: "model", Created: c, OwnedBy: "anthropic"})
	}
	m = m.orDefault()
	for _, alias := range slices.Sorted(maps.Keys(m)) {
		if m[alias] == "" {
			continue
		}
		out.Data = append(out.Data, openAIModel{ID: alias, Object: "model", Created: created[m[alias]], OwnedBy: "maxrouter"})
	}
	return json.Marshal(out)
}
