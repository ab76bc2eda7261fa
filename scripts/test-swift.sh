#!/usr/bin/env bash
# The Swift tests of the bindings (bindings/swift): builds lichen-ffi and uniffi-bindgen,
# generates the Swift module from that very library into a copy of the package, and runs
# `swift test` in the cached trixie chroot (scripts/swift.sh) against the real library.
# Exits non-zero on any failure, including a chroot that cannot be made. Needs root.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# The whole workspace, so features unify as in `cargo test --workspace` (nothing built twice).
cargo build -q --workspace --locked
target="${CARGO_TARGET_DIR:-$root/target}"

# The package as tested: the committed files plus the generated ones. A generated file is
# replaced only when its text changed, so its time stamp (and swift's incremental build of the
# 10k-line module) survives a run in which the bindings did not change.
pkg="$target/swift-package"
lib="$target/swift-lib"
mkdir -p "$pkg/Sources/Lichen" "$pkg/Sources/LichenFFI" "$lib"
find "$pkg" -mindepth 1 -maxdepth 1 ! -name Sources -exec rm -rf {} +
(cd bindings/swift && tar --exclude=.build --exclude=./Sources -cf - .) | (cd "$pkg" && tar -xf -)
gen="$target/swift-generated"
rm -rf "$gen"
"$target/debug/uniffi-bindgen" generate "$target/debug/liblichen_ffi.so" \
  --language swift --out-dir "$gen" --no-format
. scripts/swift.sh
swift_check_header "$gen/LichenFFI.h"
put() { cmp -s "$1" "$2" || cp "$1" "$2"; }
put "$gen/Lichen.swift" "$pkg/Sources/Lichen/Lichen.swift"
put "$gen/LichenFFI.h" "$pkg/Sources/LichenFFI/LichenFFI.h"
put "$gen/LichenFFI.modulemap" "$pkg/Sources/LichenFFI/module.modulemap"
cp -p "$target/debug/liblichen_ffi.so" "$lib/"

swift_chroot_ensure
# A hung test ends the run (20 min; the tests take about one) rather than CI's whole budget.
SWIFT_JOB=${SWIFT_JOB:-swift} swift_run "$pkg" "$lib" timeout 1200 swift test "$@"
