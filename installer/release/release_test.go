package release

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeMeta(t *testing.T, dir, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, MetaFile), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadMeta(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantErr string // "" = no error
	}{
		{
			name: "complete",
			text: "[Details]\nIcon = \"assets/icon.png\"\nName = \"MaxRouter\"\nID = \"io.maxrouter.app\"\nVersion = \"1.2.3\"\nBuild = 4\n" +
				"[LinuxAndBSD]\nGenericName = \"g\"\nCategories = [\"Network\"]\n",
		},
		{
			name:    "no version",
			text:    "[Details]\nIcon = \"i.png\"\nName = \"MaxRouter\"\nID = \"io.maxrouter.app\"\n",
			wantErr: "missing Details.Version",
		},
		{
			name:    "two-part version",
			text:    "[Details]\nIcon = \"i.png\"\nName = \"MaxRouter\"\nID = \"io.maxrouter.app\"\nVersion = \"1.2\"\n",
			wantErr: "not MAJOR.MINOR.PATCH",
		},
		{
			name:    "pre-release suffix",
			text:    "[Details]\nIcon = \"i.png\"\nName = \"MaxRouter\"\nID = \"io.maxrouter.app\"\nVersion = \"1.2.3-rc1\"\n",
			wantErr: "not MAJOR.MINOR.PATCH",
		},
		{
			name:    "not TOML",
			text:    "[Details\n",
			wantErr: "parsing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeMeta(t, dir, tt.text)
			m, err := ReadMeta(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadMeta error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Details.Version != "1.2.3" || m.Details.ID != "io.maxrouter.app" || m.Root != dir {
				t.Errorf("ReadMeta = %+v", m)
			}
			if got, want := m.IconPath(), filepath.Join(dir, "assets", "icon.png"); got != want {
				t.Errorf("IconPath = %s, want %s", got, want)
			}
			if got := strings.Join(m.LinuxAndBSD.Categories, ","); got != "Network" {
				t.Errorf("Categories = %s, want Network", got)
			}
		})
	}
}

// TestRepositoryMeta reads the real FyneApp.toml: the installers need
// every key it checks.
func TestRepositoryMeta(t *testing.T) {
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadMeta(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIcon(m.IconPath()); err != nil {
		t.Error(err)
	}
}

func TestFindRoot(t *testing.T) {
	root := t.TempDir()
	writeMeta(t, root, "")
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "installer", "linux")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// A go.mod alone (the installer module) is not the root.
	if err := os.WriteFile(filepath.Join(root, "installer", "go.mod"), []byte("module y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindRoot(deep)
	if err != nil {
		t.Fatal(err)
	}
	if got != root {
		t.Errorf("FindRoot = %s, want %s", got, root)
	}
	if _, err := FindRoot(t.TempDir()); err == nil {
		t.Error("FindRoot found a root where there is none")
	}
}

func TestScaledPNG(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			c := color.NRGBA{R: 200, A: 255}
			if x >= 32 {
				c = color.NRGBA{B: 200, A: 255}
			}
			src.Set(x, y, c)
		}
	}
	for _, px := range []int{16, 48, 128} {
		b, err := ScaledPNG(src, px)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got.X != px || got.Y != px {
			t.Errorf("%dpx: got %v", px, got)
		}
		// The left quarter stays red, the right quarter blue.
		if r, _, b, _ := img.At(px/8, px/2).RGBA(); r>>8 < 190 || b>>8 > 10 {
			t.Errorf("%dpx: left pixel r=%d b=%d, want red", px, r>>8, b>>8)
		}
		if r, _, b, _ := img.At(px-1-px/8, px/2).RGBA(); b>>8 < 190 || r>>8 > 10 {
			t.Errorf("%dpx: right pixel r=%d b=%d, want blue", px, r>>8, b>>8)
		}
	}
}

func TestLDFlags(t *testing.T) {
	var m Meta
	m.Details.Version = "1.2.3"
	tests := []struct {
		goos string
		want string
	}{
		{"linux", "-s -w -X main.version=1.2.3"},
		{"darwin", "-s -w -X main.version=1.2.3"},
		{"windows", "-s -w -X main.version=1.2.3 -H windowsgui"},
	}
	for _, tt := range tests {
		if got := LDFlags(m, Target{GOOS: tt.goos, GOARCH: "amd64"}); got != tt.want {
			t.Errorf("LDFlags(%s) = %q, want %q", tt.goos, got, tt.want)
		}
	}
}

func TestSourceDate(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if got, want := SourceDate(t.TempDir()), time.Unix(1700000000, 0).UTC(); !got.Equal(want) {
		t.Errorf("SourceDate = %v, want %v", got, want)
	}
}
