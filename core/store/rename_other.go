//go:build !windows

package store

// renameOpen tells whether a file can be renamed while open: it can, so
// the temporary file stays locked until it has its final name.
const renameOpen = true
