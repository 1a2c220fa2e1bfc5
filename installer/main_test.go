package main

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args        []string
		wantSystems []string
		wantErr     string
	}{
		{args: nil, wantSystems: nil},
		{args: []string{"-os", "linux,windows"}, wantSystems: []string{"linux", "windows"}},
		{args: []string{"-os", "macos"}, wantSystems: []string{"darwin"}},
		{args: []string{"-os", "linux,beos"}, wantErr: `unknown system "beos"`},
		{args: []string{"extra"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			o, err := parse(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.systems, tt.wantSystems) {
				t.Errorf("systems = %v, want %v", o.systems, tt.wantSystems)
			}
		})
	}
}

func TestRunVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-version"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(out.String())
	if strings.Count(got, ".") != 2 {
		t.Errorf("-version printed %q, want MAJOR.MINOR.PATCH", got)
	}
}

func TestRunRefusesWhatItCannotBuild(t *testing.T) {
	// Off a Mac, without a prebuilt binary, darwin cannot be packaged.
	o, _ := parse(nil, io.Discard)
	if can, why := buildable(o); slices.Contains(can, "darwin") {
		t.Skip("this machine can package darwin")
	} else if why["darwin"] == "" {
		t.Fatal("buildable gave no reason for darwin")
	}
	err := run(t.Context(), []string{"-os", "darwin", "-out", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot package darwin here") {
		t.Errorf("run -os darwin = %v, want a refusal", err)
	}
}
