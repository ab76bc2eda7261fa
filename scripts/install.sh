#!/usr/bin/env bash
# Builds and installs the `lichen` command (README). On Debian/Ubuntu it first installs what
# the Bluetooth LE build needs (pkg-config, libdbus-1-dev) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/sysdeps.sh
ensure_pkgs "cmd:pkg-config=pkg-config" "pc:dbus-1=libdbus-1-dev"
cargo install --locked --path cli
