#!/usr/bin/env bash
# The node names no face: faces (core/src/face/, core/src/ble/) depend on the node's link
# port, never the reverse, so there is no import cycle between them (ADR 0022). Fails if any
# file under core/src/node/ mentions a face module by path.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d core/src/node ]; then
  echo "core/src/node/ is missing: nothing to check" >&2
  exit 1
fi
if grep -rnE 'crate::(face|ble|emu|app)\b|super::super::(face|ble)|lichen::(face|ble)' core/src/node/; then
  echo "core/src/node/ names a face module (above): faces register through node::Link instead" >&2
  exit 1
fi
echo "node names no face: ok"
