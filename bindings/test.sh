#!/usr/bin/env bash
# Builds the bindings library, generates the Python module from that very library, and runs
# the Python binding tests. Kotlin and Swift generation use the same bindgen (see README).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build -p lichen-ffi
cargo build -p uniffi-bindgen
target="${CARGO_TARGET_DIR:-$root/target}"
out=$(mktemp -d)
"$target/debug/uniffi-bindgen" generate "$target/debug/liblichen_ffi.so" \
  --language python --out-dir "$out" --no-format
cp "$target/debug/liblichen_ffi.so" "$out/"
python3 -m pytest -q "$root/bindings/tests" --rootdir "$root/bindings/tests" -p no:cacheprovider \
  --import-mode=importlib -o pythonpath="$out"
