#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing.
# As root on Debian/Ubuntu it installs them with apt-get; anywhere else it
# names the missing packages and stops, so nothing fails later for an
# obscure reason.
set -euo pipefail

# command -> Debian package that provides it
declare -A need=(
  [go]=""              # Go comes from go.dev, not apt: see README
  [dbus-daemon]=dbus   # private session buses for the tray's D-Bus tests
  [sleep]=coreutils
  [nohup]=coreutils    # a daemon under nohup keeps ignoring SIGHUP
  # "another local user" is a real one: tests create it (root, as CI is)
  [useradd]=passwd
  [userdel]=passwd
  [flock]=util-linux   # a lock held by an unrelated process
  [mount]=mount        # the store's full-disk test on a tiny tmpfs
  [systemd-analyze]=systemd                     # daemon/service: verify the generated user unit
  [desktop-file-validate]=desktop-file-utils    # tray/loginitem: validate the autostart entry
  # the real-desktop tray test (tray/internal/desktoptest): a headless X
  # server, a panel whose systray plugin hosts StatusNotifierItems, a
  # notification server, screenshots and synthetic clicks
  [Xvfb]=xvfb
  [xfce4-panel]=xfce4-panel
  [dunst]=dunst
  [dunstctl]=dunst
  [import]=imagemagick
  [xdotool]=xdotool
  # the dashboard's browser tests (cmd/cairn, chromedp); never downloaded
  [chromium]=chromium
  # make check-dist (build/distcheck): each artifact through the tool that reads it
  [dpkg-deb]=dpkg
  [rpm]=rpm
  [lintian]=lintian
  [man]=man-db
  [git]=git
)

missing_cmds=()
missing_pkgs=()
for cmd in "${!need[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing_cmds+=("$cmd")
    pkg=${need[$cmd]}
    # Two commands can come from one package (dunst, dunstctl).
    if [ -n "$pkg" ] && [[ " ${missing_pkgs[*]} " != *" $pkg "* ]]; then
      missing_pkgs+=("$pkg")
    fi
  fi
done

# llvm-lipo joins the macOS cairn into one universal binary; Debian ships it
# with the version in its name (llvm-lipo-14), and any version does.
if ! compgen -c llvm-lipo >/dev/null 2>&1; then
  missing_cmds+=(llvm-lipo)
  missing_pkgs+=(llvm)
fi

if [ ${#missing_cmds[@]} -eq 0 ]; then
  exit 0
fi

if [[ " ${missing_cmds[*]} " == *" go "* ]]; then
  echo "test-deps: Go is missing: install Go 1.26 or newer (https://go.dev/dl) and put it on PATH." >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: installing ${missing_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" </dev/null
  exit 0
fi

echo "test-deps: missing packages: ${missing_pkgs[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: install them with: sudo apt-get install -y ${missing_pkgs[*]}" >&2
else
  echo "test-deps: install the equivalents of these Debian packages with your package manager." >&2
fi
exit 1
