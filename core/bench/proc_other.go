//go:build !linux

package main

import "os/exec"

// setDeathSignal does nothing here: the benchmark reads /proc and runs on
// Linux only; this file keeps the package building elsewhere.
func setDeathSignal(*exec.Cmd) {}
