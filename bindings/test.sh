#!/usr/bin/env bash
# Builds the bindings library, generates the Python module from that very library, and runs
# the Python binding tests. Kotlin and Swift generation use the same bindgen (see README).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# The whole workspace, so features unify as in `cargo test --workspace` and nothing is
# compiled twice (building lichen-ffi alone would build lichen again without `ble`).
cargo build --workspace --locked
target="${CARGO_TARGET_DIR:-$root/target}"
out=$(mktemp -d)
"$target/debug/uniffi-bindgen" generate "$target/debug/liblichen_ffi.so" \
  --language python --out-dir "$out" --no-format
cp "$target/debug/liblichen_ffi.so" "$out/"
python3 -m pytest -q "$root/bindings/tests" --rootdir "$root/bindings/tests" -p no:cacheprovider \
  --import-mode=importlib -o pythonpath="$out"
