#!/usr/bin/env bash
# Builds MaxRouter from this checkout, installs it for the current user
# (~/.local/bin/maxrouter) and starts it: the desktop app (tray + settings)
# when there is a display, the daemon (`maxrouter serve`) when there is not.
# It needs Go 1.26+; for the desktop build it installs the Debian packages
# cgo needs (with sudo when not root).
#
#   installer/install.sh            build, install, start
#   installer/install.sh --no-run   build and install only
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
run=1
[ "${1:-}" = "--no-run" ] && run=0

command -v go >/dev/null || { echo "install.sh: Go 1.26 or newer is needed (https://go.dev/doc/install)" >&2; exit 1; }
bin="${XDG_BIN_HOME:-$HOME/.local/bin}"
mkdir -p "$bin"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  need=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev)
  missing=()
  for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing build packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  echo "Building the desktop app (the first build takes about 5 minutes)…"
  go build -trimpath -o "$bin/maxrouter" .
  cmd=("$bin/maxrouter")
else
  echo "No display: building the daemon only (-tags headless)…"
  CGO_ENABLED=0 go build -trimpath -tags headless -o "$bin/maxrouter" .
  cmd=("$bin/maxrouter" serve)
fi
echo "Installed $bin/maxrouter ($("$bin/maxrouter" version))."
case ":$PATH:" in *":$bin:"*) ;; *) echo "Add $bin to your PATH to run \`maxrouter\` by name." ;; esac
[ $run -eq 1 ] && exec "${cmd[@]}"
