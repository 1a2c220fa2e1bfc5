//go:build !(linux || freebsd || netbsd || openbsd)

package tray

// trayImage returns the PNG as it is: the system tray takes PNG here.
func trayImage(data []byte) []byte { return data }
