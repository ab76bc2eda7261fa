#!/usr/bin/env bash
# Keeps the apps on the front door (issue 11, ADR 0036): builds the CLI, the bindings and the
# desktop app alone, so that `lichen` is compiled without its `internals` feature and the
# engine's rooms (node, stores, faces, the own-feed writer, sync, …) are private. An app that
# names one fails to compile here. (`cargo test --workspace` cannot show it: the benches and
# tests enable `internals`, and cargo unifies features across the workspace.)
# Run by scripts/test.sh after the lints, whose checked dependencies it reuses.
set -euo pipefail
cd "$(dirname "$0")/.."
apps=(-p lichen-cli -p lichen-ffi -p lichen-desktop)
# --lib --bins: the apps' own code (their tests may enable `internals`).
cargo clippy --locked "${apps[@]}" --lib --bins -- -D warnings
tree=$(cargo tree --locked -e normal,build,features -i lichen "${apps[@]}" 2>/dev/null || true)
if grep -q 'lichen feature "internals"' <<<"$tree"; then
  echo "an app enables lichen's internals feature:" >&2
  grep 'feature "internals"' -A3 <<<"$tree" >&2
  exit 1
fi
echo "the CLI, the bindings and the desktop app build against the door (lichen without internals)"
