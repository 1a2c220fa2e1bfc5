//go:build !headless && !race

package desktop

// raceEnabled is true in a race-detector build.
const raceEnabled = false
