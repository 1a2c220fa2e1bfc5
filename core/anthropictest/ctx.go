package anthropictest

import (
	"context"
	"io"
	"net/http"
)

type fakeKey struct{}

func withFake(ctx context.Context, f *Fake) context.Context {
	return context.WithValue(ctx, fakeKey{}, f)
}

func fakeOf(ctx context.Context) *Fake {
	if f, ok := ctx.Value(fakeKey{}).(*Fake); ok {
		return f
	}
	return &Fake{}
}

func ioReadFull(r *http.Request, b []byte) (int, error) { return io.ReadFull(r.Body, b) }
