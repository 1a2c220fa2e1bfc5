package autostart

import (
	"encoding/xml"
	"strings"
	"testing"
)

type plist struct {
	Dict struct {
		Items []struct {
			XMLName xml.Name
			Text    string   `xml:",chardata"`
			Strings []string `xml:"string"`
		} `xml:",any"`
	} `xml:"dict"`
}

func TestLaunchAgent(t *testing.T) {
	exe := "/Applications/Max & <Router>.app/Contents/MacOS/maxrouter"
	text := launchAgent(exe)

	var p plist
	if err := xml.Unmarshal([]byte(text), &p); err != nil {
		t.Fatalf("parsing the plist: %v\n%s", err, text)
	}
	items := p.Dict.Items
	if len(items)%2 != 0 {
		t.Fatalf("dict has %d items, want key/value pairs:\n%s", len(items), text)
	}
	got := map[string]string{}
	for i := 0; i < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("item %d is <%s>, want <key>", i, items[i].XMLName.Local)
		}
		v := items[i+1]
		switch v.XMLName.Local {
		case "true", "false":
			got[items[i].Text] = v.XMLName.Local
		case "array":
			got[items[i].Text] = strings.Join(v.Strings, "\x00")
		default:
			got[items[i].Text] = v.Text
		}
	}
	want := map[string]string{
		"Label":                  "io.maxrouter.tray",
		"ProgramArguments":       exe,
		"RunAtLoad":              "true",
		"ProcessType":            "Interactive",
		"LimitLoadToSessionType": "Aqua",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("plist %s = %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("plist keys = %v, want exactly %d", got, len(want))
	}
}

func TestDesktopExec(t *testing.T) {
	tests := []struct {
		exe, want string
	}{
		{"/usr/bin/maxrouter", "/usr/bin/maxrouter"},
		{"/opt/Max Router/maxrouter", `"/opt/Max Router/maxrouter"`},
		{"/opt/100%/maxrouter", "/opt/100%%/maxrouter"},
		{`/opt/a"b/maxrouter`, `"/opt/a\\"b/maxrouter"`},
		{`/opt/$x/maxrouter`, `"/opt/\\$x/maxrouter"`},
		{`/opt/a\b/maxrouter`, `"/opt/a\\\\b/maxrouter"`},
	}
	for _, tt := range tests {
		t.Run(tt.exe, func(t *testing.T) {
			if got := desktopExec(tt.exe); got != tt.want {
				t.Errorf("desktopExec(%q) = %s, want %s", tt.exe, got, tt.want)
			}
		})
	}
}

func TestDesktopEntry(t *testing.T) {
	lines := strings.Split(desktopEntry("/usr/bin/maxrouter"), "\n")
	if lines[0] != "[Desktop Entry]" {
		t.Errorf("first line = %q, want [Desktop Entry]", lines[0])
	}
	for _, want := range []string{
		"Type=Application",
		"Name=MaxRouter",
		"Exec=/usr/bin/maxrouter",
		"Icon=maxrouter",
		"X-GNOME-Autostart-enabled=true",
	} {
		found := false
		for _, l := range lines {
			found = found || l == want
		}
		if !found {
			t.Errorf("desktop entry has no line %q", want)
		}
	}
}
