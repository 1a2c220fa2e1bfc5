package tray

import (
	"github.com/maxrouter/maxrouter/assets"
)

// iconNames maps each Icon to its embedded image.
var iconNames = map[Icon]string{
	AllAvailable:  assets.TrayOKName,
	SomeCooling:   assets.TraySomeName,
	NeedsLogin:    assets.TrayLoginName,
	NoneAvailable: assets.TrayNoneName,
	Paused:        assets.TrayPausedName,
	NoAccounts:    assets.TrayEmptyName,
	Down:          assets.TrayDownName,
	Connecting:    assets.TrayEmptyName,
}

// TrayIcon returns icon's image as the system tray wants it: the embedded
// PNG, encoded by trayImage for the platform (see icon_unix.go).
func TrayIcon(icon Icon) []byte {
	name, ok := iconNames[icon]
	if !ok {
		name = assets.TrayDownName
	}
	png, err := assets.Bytes(name)
	if err != nil {
		return nil
	}
	return trayImage(png)
}
