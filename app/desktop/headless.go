//go:build headless

package desktop

import "errors"

// Run refuses: this binary was built without the desktop app.
func Run(Options) error {
	return errors.New("this maxrouter was built without the desktop app (-tags headless); run `maxrouter serve`")
}
