package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/maxrouter/maxrouter/core/anthropictest"
)

const (
	roleUpstream = "upstream" // the fake Anthropic API
	rolePlain    = "plain"    // a plain httputil.ReverseProxy in front of it
	roleRelay    = "relay"    // a TCP relay in front of it: no HTTP at all

	// upstreamEnv gives the plain proxy its upstream URL.
	upstreamEnv = "MAXROUTER_BENCH_UPSTREAM"

	// events is how many text deltas a stream carries; a stream has
	// events+6 SSE events in all (message_start, content_block_start, ping,
	// the deltas, content_block_stop, message_delta, message_stop).
	events = 20
	// pace is the pause between events of a paced stream.
	pace = 5 * time.Millisecond
	// paceHeader asks the fake upstream for a paced stream whose events
	// carry their send time (an SSE comment line ": t=<unix ns>").
	paceHeader = "X-Bench-Pace"
)

// runRole serves one helper process until ctx ends. Its first line on out
// is the base URL it listens on.
func runRole(ctx context.Context, role string, out io.Writer) error {
	var h http.Handler
	switch role {
	case roleUpstream:
		h = upstreamHandler()
	case roleFaults:
		var err error
		if h, err = faultsHandler(); err != nil {
			return err
		}
	case rolePlain, roleRelay:
		u, err := url.Parse(os.Getenv(upstreamEnv))
		if err != nil || u.Host == "" {
			return fmt.Errorf("%s is not a URL: %q", upstreamEnv, os.Getenv(upstreamEnv))
		}
		if role == roleRelay {
			return runRelay(ctx, u.Host, out)
		}
		// Exactly what any Go developer gets for free: nothing tuned, the
		// default transport (two idle connections per host).
		h = httputil.NewSingleHostReverseProxy(u)
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h} // as plain as http.ListenAndServe
	fmt.Fprintf(out, "http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// upstreamHandler is the fake Anthropic API: non-recording fakes that
// stream events back to back, or paced and time-stamped when the request
// carries paceHeader.
func upstreamHandler() http.Handler {
	fast := anthropictest.NewHandler()
	fast.Events = events
	paced := anthropictest.NewHandler()
	paced.Events = events
	paced.StreamDelay = pace
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(paceHeader) != "" {
			paced.ServeHTTP(&stampWriter{ResponseWriter: w}, r)
			return
		}
		fast.ServeHTTP(w, r)
	})
}

// stampWriter puts an SSE comment line with the current time before every
// write, so the client can tell how long each event took to reach it. The
// fake writes one event per Write and flushes right after.
type stampWriter struct {
	http.ResponseWriter
	buf []byte
}

func (s *stampWriter) Write(p []byte) (int, error) {
	s.buf = append(s.buf[:0], stampPrefix...)
	s.buf = strconv.AppendInt(s.buf, time.Now().UnixNano(), 10)
	s.buf = append(s.buf, '\n')
	s.buf = append(s.buf, p...)
	if _, err := s.ResponseWriter.Write(s.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush implements http.Flusher.
func (s *stampWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

const stampPrefix = ": t="

// runRelay copies bytes between each client connection and a connection
// of its own to upstream, both ways, and understands no HTTP at all: what
// any proxy on loopback pays for its two extra hops and nothing more, the
// floor under the others. It runs on one P, as maxrouter serve does.
func runRelay(ctx context.Context, upstream string, out io.Writer) error {
	runtime.GOMAXPROCS(1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go relay(c, upstream)
	}
}

// relay pipes c to a new connection to upstream until both sides are done.
// io.Copy between two TCP connections uses splice(2) on Linux.
func relay(c net.Conn, upstream string) {
	defer c.Close()
	up, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(up, c)
		up.(*net.TCPConn).CloseWrite() // the client is done sending
	}()
	io.Copy(c, up)
}
