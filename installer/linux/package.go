package linux

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
	"github.com/ulikunitz/xz"

	"github.com/maxrouter/maxrouter/installer/release"
)

// Formats are the package formats Build makes.
var Formats = []string{"deb", "rpm", "tar.xz"}

// description is the package description: a one-line summary, then the
// long text.
const description = `Use several Claude subscriptions from one workstation
MaxRouter runs a local proxy for the Anthropic API that spreads Claude
Code's requests over several Claude subscriptions (Pro / Max logins) and
moves on to another account when one hits its limit. A tray icon shows the
accounts; the daemon (maxrouter serve) can run as a systemd user service.`

// The shared libraries of the cgo desktop build: it links libGL and libX11;
// GLFW opens the other X11 extension libraries at run time and copes
// without them, so they are recommended, not required.
var (
	debDepends    = []string{"libc6", "libgl1", "libx11-6"}
	debRecommends = []string{"libxcursor1", "libxrandr2", "libxinerama1", "libxi6", "libxxf86vm1"}
	rpmDepends    = []string{"libGL.so.1()(64bit)", "libX11.so.6()(64bit)"}
	rpmRecommends = []string{
		"libXcursor.so.1()(64bit)", "libXrandr.so.2()(64bit)", "libXinerama.so.1()(64bit)",
		"libXi.so.6()(64bit)", "libXxf86vm.so.1()(64bit)",
	}
	// A tray needs a StatusNotifierItem host; GNOME has none without this.
	debSuggests = []string{"gnome-shell-extension-appindicator"}
)

// Options says what to package.
type Options struct {
	// Binary is the built maxrouter binary for Arch.
	Binary string
	// Arch is the Go architecture of Binary ("amd64").
	Arch string
	// OutDir receives the packages.
	OutDir string
	// StageDir receives the generated files the packages are made from.
	StageDir string
	// MTime stamps every file (see release.SourceDate).
	MTime time.Time
}

// Stage writes the generated files (entries, unit, icons) into dir and
// returns the package contents: what goes where, with modes.
func Stage(m release.Meta, binary, dir string) (files.Contents, error) {
	if err := os.MkdirAll(filepath.Join(dir, "icons"), 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	unit, err := Unit(BinPath)
	if err != nil {
		return nil, err
	}
	auto, err := AutostartEntry(BinPath)
	if err != nil {
		return nil, err
	}
	readme, err := os.ReadFile(filepath.Join(m.Root, "README.md"))
	if err != nil {
		return nil, fmt.Errorf("reading the README: %w", err)
	}
	type gen struct {
		name, dst string
		data      []byte
	}
	gens := []gen{
		{"app.desktop", DesktopPath(m), []byte(DesktopEntry(m))},
		{"autostart.desktop", AutostartPath, []byte(auto)},
		{"maxrouter.service", UnitPath, []byte(unit)},
		{"README.md", DocPath, readme},
	}
	icon, err := release.LoadIcon(m.IconPath())
	if err != nil {
		return nil, err
	}
	for _, px := range IconSizes {
		b, err := release.ScaledPNG(icon, px)
		if err != nil {
			return nil, err
		}
		gens = append(gens, gen{fmt.Sprintf("icons/%d.png", px), IconPath(px), b})
	}
	contents := files.Contents{{
		Source: binary, Destination: BinPath, Type: files.TypeFile,
		FileInfo: &files.ContentFileInfo{Mode: 0o755},
	}}
	for _, g := range gens {
		src := filepath.Join(dir, filepath.FromSlash(g.name))
		if err := os.WriteFile(src, g.data, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", src, err)
		}
		// Plain files, not conffiles, even under /etc: removing the package
		// must remove the autostart entry, or logins would try to start a
		// binary that is gone.
		contents = append(contents, &files.Content{
			Source: src, Destination: g.dst, Type: files.TypeFile,
			FileInfo: &files.ContentFileInfo{Mode: 0o644},
		})
	}
	return contents, nil
}

// Info is the package description every format is made from. No
// maintainer scripts: nothing runs as root beyond copying files, and nothing
// touches a home directory. The desktop's icon and menu caches are updated
// by dpkg and rpm triggers of the theme and desktop-file packages.
func Info(m release.Meta, contents files.Contents, arch string, mtime time.Time) *nfpm.Info {
	// Each packager prepares (rewrites) the contents, so each gets a copy.
	cs := make(files.Contents, len(contents))
	for i, c := range contents {
		cc := *c
		if c.FileInfo != nil {
			fi := *c.FileInfo
			cc.FileInfo = &fi
		}
		cs[i] = &cc
	}
	info := &nfpm.Info{
		Name:        "maxrouter",
		Arch:        arch,
		Platform:    "linux",
		Version:     m.Details.Version,
		Section:     "net",
		Priority:    "optional",
		Maintainer:  "MaxRouter developers",
		Vendor:      m.Details.Name,
		Description: description,
		MTime:       mtime,
		Overridables: nfpm.Overridables{
			Depends:    debDepends,
			Recommends: debRecommends,
			Suggests:   debSuggests,
			Contents:   cs,
		},
	}
	info.RPM.Summary = strings.SplitN(description, "\n", 2)[0]
	info.RPM.Group = "Applications/Internet"
	info.RPM.Compression = "xz"
	return nfpm.WithDefaults(info)
}

// Build stages the files and writes one package per format into
// o.OutDir, returning their paths.
func Build(m release.Meta, o Options) ([]string, error) {
	contents, err := Stage(m, o.Binary, o.StageDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", o.OutDir, err)
	}
	var out []string
	for _, format := range Formats {
		info := Info(m, contents, o.Arch, o.MTime)
		var path string
		if format == "tar.xz" {
			path = filepath.Join(o.OutDir, fmt.Sprintf("maxrouter_%s_linux_%s.tar.xz", m.Details.Version, o.Arch))
			err = writeFile(path, func(w io.Writer) error { return writeTarXZ(info, w) })
		} else {
			path, err = packageFormat(info, format, o.OutDir)
		}
		if err != nil {
			return out, err
		}
		out = append(out, path)
	}
	return out, nil
}

// packageFormat writes info as a package of format (deb, rpm) into dir.
func packageFormat(info *nfpm.Info, format, dir string) (string, error) {
	if format == "rpm" {
		info.Depends = rpmDepends
		info.Recommends = rpmRecommends
		info.Suggests = nil
		// rpm shows the Summary above the Description; do not repeat it.
		_, info.Description, _ = strings.Cut(info.Description, "\n")
	}
	p, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		return "", fmt.Errorf("preparing the %s: %w", format, err)
	}
	path := filepath.Join(dir, p.ConventionalFileName(info))
	err = writeFile(path, func(w io.Writer) error { return p.Package(info, w) })
	if err != nil {
		return "", fmt.Errorf("writing the %s: %w", format, err)
	}
	return path, nil
}

// writeTarXZ writes the package's files as a tar.xz of paths relative to
// / (usr/bin/maxrouter, ...), so `tar -xJf ... -C /` installs the same
// layout as the packages. Directories are left out: extracting never
// changes the mode of an existing /usr or /etc.
func writeTarXZ(info *nfpm.Info, w io.Writer) error {
	if err := nfpm.PrepareForPackager(info, ""); err != nil {
		return err
	}
	zw, err := xz.NewWriter(w)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, c := range info.Contents {
		if c.Type != files.TypeFile && c.Type != files.TypeConfig && c.Type != "" {
			continue
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     strings.TrimPrefix(c.Destination, "/"),
			Mode:     int64(c.Mode().Perm()),
			Size:     c.Size(),
			ModTime:  info.MTime,
			Uname:    "root",
			Gname:    "root",
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if err := copyFile(tw, c.Source); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// writeFile writes path through fill, removing it when fill fails.
func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
