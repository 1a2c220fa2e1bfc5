package service

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestSystemdUnit(t *testing.T) {
	tests := []struct {
		name, exe, config string
		wantExec          string
	}{
		{
			name:     "plain paths",
			exe:      "/usr/bin/maxrouter",
			config:   "/home/ann/.config/maxrouter/config.toml",
			wantExec: "ExecStart=/usr/bin/maxrouter serve --config /home/ann/.config/maxrouter/config.toml",
		},
		{
			name:     "spaces are quoted",
			exe:      "/opt/Max Router/maxrouter",
			config:   "/home/ann/My Config/config.toml",
			wantExec: `ExecStart="/opt/Max Router/maxrouter" serve --config "/home/ann/My Config/config.toml"`,
		},
		{
			name:     "specifiers and variables are escaped",
			exe:      "/opt/100%/maxrouter",
			config:   "/home/ann/$HOME/c.toml",
			wantExec: "ExecStart=/opt/100%%/maxrouter serve --config /home/ann/$$HOME/c.toml",
		},
		{
			name:     "quotes and backslashes inside quotes",
			exe:      "/usr/bin/maxrouter",
			config:   `/tmp/a "b"\c.toml`,
			wantExec: `ExecStart=/usr/bin/maxrouter serve --config "/tmp/a \"b\"\\c.toml"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unit := systemdUnit(Description, tt.exe, []string{"serve", "--config", tt.config})
			lines := strings.Split(unit, "\n")
			for _, want := range []string{
				tt.wantExec,
				"Description=" + Description,
				"ConditionFileIsExecutable=" + strings.ReplaceAll(tt.exe, "%", "%%"),
				"Restart=on-failure",
				"RestartSec=5",
				"WantedBy=default.target",
			} {
				if !contains(lines, want) {
					t.Errorf("unit has no line %q:\n%s", want, unit)
				}
			}
			if strings.Contains(unit, "multi-user.target") {
				t.Errorf("unit mentions multi-user.target, which a user manager never reaches:\n%s", unit)
			}
		})
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// plist is the subset of a launchd plist the tests read: a dict of
// alternating keys and values.
type plist struct {
	Dict struct {
		Items []plistItem `xml:",any"`
	} `xml:"dict"`
}

type plistItem struct {
	XMLName xml.Name
	Text    string   `xml:",chardata"`
	Strings []string `xml:"string"`
}

// parsePlist returns the top-level dict as key → value, where a value is
// "true"/"false", a string, or the array's strings joined with "\x00".
func parsePlist(t *testing.T, text string) map[string]string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(text))
	var p plist
	if err := dec.Decode(&p); err != nil && err != io.EOF {
		t.Fatalf("parsing plist: %v\n%s", err, text)
	}
	got := map[string]string{}
	items := p.Dict.Items
	if len(items)%2 != 0 {
		t.Fatalf("plist dict has %d items, want key/value pairs:\n%s", len(items), text)
	}
	for i := 0; i < len(items); i += 2 {
		k, v := items[i], items[i+1]
		if k.XMLName.Local != "key" {
			t.Fatalf("item %d is <%s>, want <key>", i, k.XMLName.Local)
		}
		switch v.XMLName.Local {
		case "true", "false":
			got[k.Text] = v.XMLName.Local
		case "string":
			got[k.Text] = v.Text
		case "array":
			got[k.Text] = strings.Join(v.Strings, "\x00")
		default:
			t.Fatalf("value of %s is <%s>", k.Text, v.XMLName.Local)
		}
	}
	return got
}

func TestLaunchdPlist(t *testing.T) {
	exe := "/Applications/Max & Router.app/Contents/MacOS/maxrouter"
	config := "/Users/ann/Library/Application Support/maxrouter/<config>.toml"
	logPath := "/Users/ann/Library/Application Support/maxrouter/maxrouter.log"
	text := launchdPlist(Name, exe, []string{"serve", "--config", config}, logPath)

	got := parsePlist(t, text)
	want := map[string]string{
		"Label":             Name,
		"ProgramArguments":  strings.Join([]string{exe, "serve", "--config", config}, "\x00"),
		"RunAtLoad":         "true",
		"KeepAlive":         "true",
		"StandardOutPath":   logPath,
		"StandardErrorPath": logPath,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("plist %s = %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("plist has keys %v, want exactly %d", got, len(want))
	}
}

func TestWindowsCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plain", []string{"serve", "--config", `C:\Users\ann\AppData\Roaming\maxrouter\config.toml`},
			`"C:\Program Files\MaxRouter\maxrouter.exe" serve --config C:\Users\ann\AppData\Roaming\maxrouter\config.toml`},
		{"space", []string{`C:\Users\Ann Lee\config.toml`},
			`"C:\Program Files\MaxRouter\maxrouter.exe" "C:\Users\Ann Lee\config.toml"`},
		{"trailing backslash in quotes", []string{`C:\My Dir\`},
			`"C:\Program Files\MaxRouter\maxrouter.exe" "C:\My Dir\\"`},
		{"quote", []string{`a"b`}, `"C:\Program Files\MaxRouter\maxrouter.exe" "a\"b"`},
		{"backslash before quote", []string{`a\"b`}, `"C:\Program Files\MaxRouter\maxrouter.exe" "a\\\"b"`},
		{"empty", []string{""}, `"C:\Program Files\MaxRouter\maxrouter.exe" ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := windowsCommandLine(`C:\Program Files\MaxRouter\maxrouter.exe`, tt.args)
			if got != tt.want {
				t.Errorf("windowsCommandLine(%q) = %s, want %s", tt.args, got, tt.want)
			}
		})
	}
}

func TestStateString(t *testing.T) {
	tests := []struct {
		s    State
		want string
	}{
		{Unknown, "unknown"},
		{NotInstalled, "not installed"},
		{Stopped, "stopped"},
		{Running, "running"},
		{State(42), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("State(%d).String() = %q, want %q", int(tt.s), got, tt.want)
		}
	}
}

func TestNewNeedsConfigPath(t *testing.T) {
	if _, err := New(Options{Executable: "/usr/bin/maxrouter"}); err == nil {
		t.Error("New with no ConfigPath: err = nil, want an error")
	}
}

func TestNewRejectsTemplateBraces(t *testing.T) {
	_, err := New(Options{Executable: "/usr/bin/maxrouter", ConfigPath: "/tmp/{{x}}/config.toml"})
	if err == nil {
		t.Error(`New with "{{" in the config path: err = nil, want an error`)
	}
}
