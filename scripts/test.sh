#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need, then checks formatting and
# lints, runs every Rust test in the workspace, and the Python binding tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: libdbus-1-dev and pkg-config build btleplug (the `ble` feature, on for the
# CLI); dbus (dbus-daemon) and python3-dbusmock run the BlueZ D-Bus mock test
# (core/tests/ble_dbusmock.rs). Installed only when missing, as root, on Debian/Ubuntu.
need_pkgs=()
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
pkg-config --exists dbus-1 2>/dev/null || need_pkgs+=(libdbus-1-dev)
command -v dbus-daemon >/dev/null 2>&1 || need_pkgs+=(dbus)
/usr/bin/python3 -c 'import dbusmock' >/dev/null 2>&1 || need_pkgs+=(python3-dbusmock)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${need_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "warning: missing ${need_pkgs[*]} (install them with apt-get as root)" >&2
  fi
fi

# Python binding tests need pytest.
if ! python3 -m pytest --version >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check pytest
fi

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
echo "== format"
cargo fmt --all -- --check
echo "== lints (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
cargo test --workspace --locked
echo "== Python binding tests"
bindings/test.sh
