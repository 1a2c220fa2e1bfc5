package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary files. It must not panic; an error must
// name the file; a configuration it accepts must survive Save's encoding
// unchanged (what the daemon writes, it reads back as the same thing).
func FuzzParse(f *testing.F) {
	full, err := os.ReadFile(filepath.Join("testdata", "full.toml"))
	if err != nil {
		f.Fatal(err)
	}
	def, err := encode(Default())
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(full),
		string(def),
		"",
		"\ufefflisten = \"127.0.0.1:1\"\n", // BOM
		"listen = \"127.0.0.1:1\"\r\nstrategy = \"priority\"\r\n", // CRLF
		"listen = \"a\"\nlisten = \"b\"\n",                        // duplicate key
		"[notifications]\n[notifications]\n",                      // duplicate table
		"max_body_mb = nan\n",
		"max_body_mb = inf\n",
		"max_body_mb = -inf\n",
		"max_body_mb = 1e400\n",
		"max_body_mb = 99999999999999999999999\n",
		"max_body_mb = 9223372036854775807\n",
		"max_body_mb = -9223372036854775808\n",
		"max_body_mb = 0x7fffffffffffffff\n",
		"max_body_mb = 64.0\n",
		"cooldown = 60\n",
		"cooldown = 60.5\n",
		"cooldown = \"2562047h47m16.854775807s\"\n", // the largest time.Duration
		"cooldown = \"9999999999h\"\n",
		"cooldown = \"-1s\"\n",
		"refresh_before = \"0s\"\n",
		"notify = 1\n",
		"notifications = {needs_login = false, extra = {a = 1}}\n",
		"[notifications.needs_login]\nx = 1\n",
		"[[account]]\nname = \"a\"\ndir = \"~/.claude\"\n[[account]]\nname = \"a\"\ndir = \"~/.claude\"\n",
		"[[account]]\nname = \"\u00e9\u0301\"\ntoken = \"sk\"\n",
		"[[account]]\nname = \"x\"\ndir = \"d\"\ntoken = \"t\"\n",
		"[[account]]\nname = \"x\"\n[account.nested]\ndeep = [[[[1]]]]\n",
		"account = []\n",
		"account = [{name = \"inline\", dir = \"d\"}]\n",
		"listen = \"\x00\"\n",
		"data_dir = '''\nmulti\nline'''\n",
		"deep = " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n",
		"deep = " + strings.Repeat("{a=", 2000) + "1" + strings.Repeat("}", 2000) + "\n",
		"a.b.c.d.e.f.g.h = 1\n",
		"\"listen\" = \"127.0.0.1:1\"\n",
		"listen = \"[::1]:8787\"\nupstream = \"http://[::1]:1\"\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.toml")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		out, err := encode(c)
		if err != nil {
			t.Fatalf("encoding an accepted configuration: %v", err)
		}
		back, err := Parse(out, "saved.toml")
		if err != nil {
			t.Fatalf("the saved form of an accepted configuration does not parse: %v\n%s", err, out)
		}
		if len(c.Accounts) == 0 {
			c.Accounts = nil // "account = []" is no accounts, as is no key
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the configuration:\n got %+v\nwant %+v\nsaved:\n%s", back, c, out)
		}
	})
}
