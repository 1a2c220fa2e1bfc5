#!/usr/bin/env bash
# Builds MaxRouter.app and a .dmg on a Mac. Needs Go 1.26+ and the Xcode
# command line tools (xcode-select --install): the fyne desktop build is cgo.
#
#   installer/macos/build-macos.sh [OUT]      default OUT: installer/dist
#
# The .app is a menu-bar app (LSUIElement: no Dock icon). It is signed ad hoc,
# which runs on the Mac that built it; to hand it to others, set
# SIGN_IDENTITY="Developer ID Application: ..." (and notarize the .dmg with
# `xcrun notarytool submit --wait` and `xcrun stapler staple`).
# ARCH=amd64 or ARCH=arm64 builds for that architecture instead of this Mac's.
set -euo pipefail
[ "$(uname -s)" = Darwin ] || { echo "build-macos.sh: run this on a Mac" >&2; exit 1; }
cd "$(dirname "$0")/.."
out="${1:-$PWD/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

command -v go >/dev/null || { echo "build-macos.sh: Go 1.26 or newer is needed (https://go.dev/doc/install)" >&2; exit 1; }
xcrun --find clang >/dev/null 2>&1 || { echo "build-macos.sh: install the Xcode command line tools: xcode-select --install" >&2; exit 1; }

version="$(go run . -version)"
arch="${ARCH:-$(go env GOARCH)}"
echo "== MaxRouter $version for macOS/$arch"

# The binary (cgo, for $arch) and the bundle around it.
go run . -os darwin -arch "$arch" -out "$out"
app="$out/MaxRouter.app"

if [ -n "${SIGN_IDENTITY:-}" ]; then
  codesign --force --options runtime --timestamp --sign "$SIGN_IDENTITY" "$app"
else
  codesign --force --sign - "$app"
fi
codesign --verify --strict "$app"
plutil -lint "$app/Contents/Info.plist"

dmg="$out/MaxRouter-$version-macos-$arch.dmg"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
hdiutil create -volname "MaxRouter $version" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"
echo "== $dmg"
