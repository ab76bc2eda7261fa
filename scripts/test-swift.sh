#!/usr/bin/env bash
# The Swift tests of the bindings (bindings/swift): builds lichen-ffi and uniffi-bindgen,
# generates the Swift module from that very library into a copy of the package, and runs
# `swift test` in the cached trixie chroot (scripts/swift.sh) against the real library.
# Exits non-zero on any failure, including a chroot that cannot be made. Needs root.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build -q -p lichen-ffi
cargo build -q -p uniffi-bindgen
target="${CARGO_TARGET_DIR:-$root/target}"

# The package as tested: the committed files plus the generated ones.
pkg="$target/swift-package"
lib="$target/swift-lib"
rm -rf "$pkg" "$lib"
mkdir -p "$pkg/Sources/Lichen" "$pkg/Sources/LichenFFI" "$lib"
(cd bindings/swift && tar --exclude=.build --exclude=./Sources -cf - .) | (cd "$pkg" && tar -xf -)
gen="$target/swift-generated"
rm -rf "$gen"
"$target/debug/uniffi-bindgen" generate "$target/debug/liblichen_ffi.so" \
  --language swift --out-dir "$gen" --no-format
mv "$gen/Lichen.swift" "$pkg/Sources/Lichen/Lichen.swift"
# uniffi 0.32 escapes Swift keywords in the C header too (`open`, BleCentral's method, becomes
# a backticked struct field, which clang rejects): drop the backticks outside comments.
sed '/^[[:space:]]*\/\//! s/`\([A-Za-z_][A-Za-z0-9_]*\)`/\1/g' "$gen/LichenFFI.h" \
  >"$pkg/Sources/LichenFFI/LichenFFI.h"
mv "$gen/LichenFFI.modulemap" "$pkg/Sources/LichenFFI/module.modulemap"
cp "$target/debug/liblichen_ffi.so" "$lib/"

. scripts/swift.sh
swift_chroot_ensure
SWIFT_JOB=${SWIFT_JOB:-swift} swift_run "$pkg" "$lib" \
  swift test --parallel --num-workers 2 "$@"
