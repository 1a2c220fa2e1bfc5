//go:build !darwin && !windows

package cli

import "os/exec"

// openBrowser opens url in the desktop's browser.
func openBrowser(url string) error { return exec.Command("xdg-open", url).Start() }
