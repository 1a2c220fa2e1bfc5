#!/usr/bin/env bash
# The package checks, for CI (root on Debian) and for anyone about to ship:
#   1. the installer module's vet and unit tests;
#   2. builds the Linux packages and the Windows installer (go run . -os linux,windows);
#   3. installs the .deb with dpkg -i, checks every file, runs `maxrouter version`
#      and `maxrouter doctor` from /usr/bin, starts the daemon from the installed
#      unit's ExecStart line for a user with a temporary home, waits for /health,
#      issues a client token, stops it, runs dpkg -r and checks that the user's
#      config.toml and tokens.json survived and the package's files are gone;
#   4. checks the Windows installer: the GUI exe, icon and uninstaller inside,
#      and the shortcut, login entry and uninstaller registration compiled in.
# It installs the Debian packages it needs when they are missing (the cgo
# desktop packages come from .ci/run).
#
#   installer/ci-check.sh                 build, then check
#   SKIP_BUILD=1 installer/ci-check.sh    check what installer/dist holds
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$PATH" LANG=C.UTF-8

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "ci-check.sh: run as root (it installs a .deb)" >&2; exit 1; }
  sudo="sudo"
fi
need=(gcc-mingw-w64-x86-64 nsis p7zip-full rpm desktop-file-utils)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

dist="${MAXROUTER_DIST:-$PWD/dist}"

echo "== installer: vet and unit tests"
go vet ./...
go vet -tags pkgcheck ./...
go test -count=1 ./...

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "== installer: building the Linux packages and the Windows installer"
  go run . -os linux,windows -out "$dist"
fi

echo "== installer: installed .deb and Windows installer checks"
if [ -n "$sudo" ]; then
  go test -tags pkgcheck -c -o "$dist/build/linux.test" ./linux/
  (cd linux && $sudo env MAXROUTER_DIST="$dist" PATH="$PATH" "$dist/build/linux.test" -test.count=1 -test.v -test.run 'Installed')
else
  MAXROUTER_DIST="$dist" go test -tags pkgcheck -count=1 -v -run 'Installed' ./linux/
fi
MAXROUTER_DIST="$dist" go test -tags pkgcheck -count=1 -v -run 'BuiltInstaller' ./windows/
