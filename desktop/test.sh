#!/usr/bin/env bash
# The desktop window under Xvfb: renders the main screens (chat list, conversation, pairing,
# sync) through eframe on Mesa's software OpenGL, screenshots each with ImageMagick into
# target/screenshots/, and checks none is blank (enough distinct colours). Under CI=true a
# screen that cannot be shown fails; elsewhere a missing X server is a loud skip.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/sysdeps.sh

ensure_pkgs "${DESKTOP_PKGS[@]}"

fail() {
  if [ "${CI:-}" = true ]; then echo "desktop/test.sh: FAIL: $*" >&2; exit 1; fi
  echo "desktop/test.sh: SKIP (not CI): $*" >&2; exit 0
}
command -v Xvfb >/dev/null || fail "no Xvfb"
command -v import >/dev/null || fail "no ImageMagick import"

# --workspace: the features `cargo test --workspace` built with, so nothing is rebuilt.
cargo build -q --workspace --locked --example screens
BIN=target/debug/examples/screens
OUT=target/screenshots
rm -rf "$OUT"; mkdir -p "$OUT"

DISP=:$((90 + RANDOM % 100))
Xvfb "$DISP" -screen 0 1000x680x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
XVFB=$!
APP=""
cleanup() {
  [ -n "$APP" ] && kill "$APP" 2>/dev/null || true
  kill "$XVFB" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${DISP#:}" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X${DISP#:}" ] || fail "Xvfb did not start: $(cat "$OUT/xvfb.log")"

for screen in chats conversation pairing sync; do
  DISPLAY=$DISP LIBGL_ALWAYS_SOFTWARE=1 "$BIN" "$screen" "$OUT" >"$OUT/$screen.log" 2>&1 &
  APP=$!
  for _ in $(seq 600); do
    [ -e "$OUT/$screen.ready" ] && break
    kill -0 "$APP" 2>/dev/null || break
    sleep 0.1
  done
  [ -e "$OUT/$screen.ready" ] || { cat "$OUT/$screen.log" >&2; fail "$screen never became ready"; }
  DISPLAY=$DISP import -window root "$OUT/$screen.png"
  kill "$APP"; wait "$APP" 2>/dev/null || true; APP=""
  colours=$(convert "$OUT/$screen.png" -format %k info:)
  echo "desktop screenshot $OUT/$screen.png: $colours colours"
  # A blank or failed render is one or two colours; text and widgets give hundreds.
  [ "$colours" -ge 50 ] || fail "$screen looks blank ($colours colours)"
done
echo "desktop/test.sh: ok (screenshots in $OUT/)"
