package control

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/maxrouter/maxrouter/core/event"
)

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		want    []Event
		wantErr bool
	}{
		{
			name:   "one event",
			stream: "event: account\ndata: {\"type\":\"refreshed\",\"account\":\"work\"}\n\n",
			want:   []Event{{Type: event.Refreshed, Account: "work"}},
		},
		{
			name: "comments and blank lines",
			stream: ": ping\n\n\n\n: hello\nevent: account\n: inside\ndata: {\"type\":\"needs_login\",\"account\":\"a\"}\n\n" +
				": ping\n\nevent: account\ndata: {\"type\":\"recovered\"}\n\n",
			want: []Event{{Type: event.NeedsLogin, Account: "a"}, {Type: event.Recovered}},
		},
		{
			name:   "multi-line data",
			stream: "event: account\ndata: {\"type\":\ndata: \"cooldown_started\",\ndata:\"account\":\"b\"}\n\n",
			want:   []Event{{Type: event.CooldownStarted, Account: "b"}},
		},
		{
			name:   "crlf and no space after colon",
			stream: "event:account\r\ndata:{\"type\":\"cooldown_ended\",\"account\":\"c\"}\r\n\r\n",
			want:   []Event{{Type: event.CooldownEnded, Account: "c"}},
		},
		{
			name: "other event types skipped, ids kept",
			stream: "event: hello\ndata: {\"x\":1}\n\ndata: {\"type\":\"refreshed\"}\n\n" +
				"id: e-7\nretry: 100\nevent: account\ndata: {\"type\":\"all_exhausted\"}\n\n",
			want: []Event{{ID: "e-7", Type: event.AllExhausted}},
		},
		{
			name: "routing, config and reset",
			stream: "id: e-1\nevent: routing\ndata: {\"type\":\"paused\"}\n\n" +
				"event: reset\ndata: {}\n\n" +
				"id: e-9\nevent: config\ndata: {\"type\":\"config_changed\",\"revision\":\"ab\"}\n\n" +
				"id: e-10\nevent: daemon\ndata: {\"type\":\"stopping\"}\n\n",
			want: []Event{{ID: "e-1", Type: event.Paused}, {Type: EventReset}, {ID: "e-9", Type: event.ConfigChanged, Revision: "ab"}, {ID: "e-10", Type: event.Stopping}},
		},
		{
			name:   "event without trailing blank line is not dispatched",
			stream: "event: account\ndata: {\"type\":\"refreshed\"}\n",
			want:   nil,
		},
		{
			name:    "bad json",
			stream:  "event: account\ndata: {nope\n\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Event
			err := readEvents(strings.NewReader(tt.stream), func(e Event) { got = append(got, e) })
			if (err != nil) != tt.wantErr {
				t.Fatalf("readEvents error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && errors.Is(err, ErrUnreachable) {
				t.Errorf("decoding error %v wraps ErrUnreachable", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadEventsReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader("event: account\ndata: {\"type\":\"refreshed\"}\n\n"), iotest.ErrReader(io.ErrUnexpectedEOF))
	var n int
	err := readEvents(r, func(Event) { n++ })
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("err = %v, want ErrUnreachable", err)
	}
	if n != 1 {
		t.Errorf("got %d events before the error, want 1", n)
	}
}
