package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ExpandHome replaces a leading "~" or "~/" in p with home. Other paths,
// "~user" forms and any path when home is "" are returned unchanged.
func ExpandHome(p, home string) string {
	if home == "" {
		return p
	}
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") || hasHomeSep(p) {
		return filepath.Join(home, filepath.FromSlash(p[2:]))
	}
	return p
}

// hasHomeSep reports whether p starts with "~" and the OS path separator
// when that is not '/' (`~\x` on Windows).
func hasHomeSep(p string) bool {
	return filepath.Separator != '/' && len(p) >= 2 && p[0] == '~' && p[1] == filepath.Separator
}

// DataDirFor returns the directory that holds the daemon's state: DataDir
// with "~" expanded (a relative DataDir is taken from the config file's
// directory), or the directory of the config file at configPath when DataDir
// is "".
func (c Config) DataDirFor(configPath string) string {
	base := filepath.Dir(configPath)
	if c.DataDir == "" {
		return base
	}
	home, _ := os.UserHomeDir()
	dir := ExpandHome(c.DataDir, home)
	if strings.HasPrefix(dir, "~") || filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(base, dir)
}

// Account returns the account named name.
func (c Config) Account(name string) (Account, bool) {
	for _, a := range c.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// Discover finds the Claude Code config directories under home that exist
// and hold credentials, as decided by hasCredentials (nil accepts every
// directory): ~/.claude, then the ~/.claude-* and then the ~/.config/claude*
// directories, each group in name order. A directory reached twice (through
// a symbolic link) is listed once.
//
// Accounts are named after their directory: ~/.claude is "default",
// ~/.claude-work is "work", ~/.config/claude-team is "team",
// ~/.config/claude is "config-claude"; a name already taken gets a suffix
// ("work-2"). Dir is kept in "~/..." form so the configuration stays valid on
// another machine.
func Discover(home string, hasCredentials func(dir string) bool) []Account {
	cands := []candidate{{".claude", "default"}}
	cands = append(cands, subdirs(home, ".", ".claude-", func(n string) string { return strings.TrimPrefix(n, ".claude-") })...)
	cands = append(cands, subdirs(home, ".config", "claude", func(n string) string {
		if n == "claude" {
			return "config-claude"
		}
		return strings.TrimLeft(strings.TrimPrefix(n, "claude"), "-_.")
	})...)

	var accounts []Account
	var seen []os.FileInfo
	taken := map[string]bool{}
	for _, cand := range cands {
		dir := filepath.Join(home, cand.rel)
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			continue
		}
		dup := false
		for _, s := range seen {
			if os.SameFile(s, fi) {
				dup = true
				break
			}
		}
		if dup || (hasCredentials != nil && !hasCredentials(dir)) {
			continue
		}
		seen = append(seen, fi)
		accounts = append(accounts, Account{
			Name: uniqueName(sanitizeName(cand.name), taken),
			Dir:  "~/" + filepath.ToSlash(cand.rel),
		})
	}
	return accounts
}

// candidate is a possible Claude Code config directory, relative to home,
// and the account name it would get.
type candidate struct{ rel, name string }

// subdirs lists, in name order, the entries of home/parent whose name starts
// with prefix, as candidates relative to home named by name(entry). Entries
// that are not directories are filtered out by Discover's Stat.
func subdirs(home, parent, prefix string, name func(string) string) []candidate {
	entries, err := os.ReadDir(filepath.Join(home, parent))
	if err != nil {
		return nil
	}
	var out []candidate
	for _, e := range entries { // ReadDir sorts by name
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		out = append(out, candidate{filepath.Join(parent, e.Name()), name(e.Name())})
	}
	return out
}

// sanitizeName turns s into a valid account name: characters outside
// letters, digits, '-', '_' and '.' become '-', and the result is cut to the
// maximum length. An empty result is "account".
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !validNameRune(rune(c)) {
			b[i] = '-'
		}
	}
	s = string(b)
	if len(s) > maxNameLen {
		s = s[:maxNameLen]
	}
	if strings.Trim(s, ".") == "" {
		return "account"
	}
	return s
}

// uniqueName returns name, or name with the first free suffix "-2", "-3", …,
// and marks the result taken.
func uniqueName(name string, taken map[string]bool) string {
	n := name
	for i := 2; taken[n]; i++ {
		suffix := "-" + strconv.Itoa(i)
		n = name[:min(len(name), maxNameLen-len(suffix))] + suffix
	}
	taken[n] = true
	return n
}
