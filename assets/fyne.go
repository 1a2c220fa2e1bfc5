package assets

import "fyne.io/fyne/v2"

// Resource returns the embedded icon with the given file name (one of the
// *Name constants) as a fyne resource, or nil when there is no such icon.
func Resource(name string) *fyne.StaticResource {
	b, err := Bytes(name)
	if err != nil {
		return nil
	}
	return fyne.NewStaticResource(name, b)
}
