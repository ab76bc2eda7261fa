#!/bin/sh
# The iOS app's logic under `swift test`, against the real library: builds lichen-ffi,
# generates the Swift bindings from it, and runs LichenLogic's tests and the bindings' own
# Swift tests (bindings/swift/Tests) in the Swift chroot
# (scripts/swift.sh) with the host's liblichen_ffi.so (LICHEN_HOST_FFI=1, see Package.swift).
# Exits non-zero when anything fails, including when Swift cannot run here.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/swift.sh
swift_chroot_ensure

# The whole workspace, so features unify as in `cargo test --workspace` (nothing built twice).
cargo build -q --workspace --locked
stage=target/ios-swift
rm -rf "$stage/gen" "$stage/pkg" "$stage/lib"
mkdir -p "$stage/gen" "$stage/pkg" "$stage/lib" "$stage/keep"
target/debug/uniffi-bindgen generate target/debug/liblichen_ffi.so --language swift \
  --out-dir "$stage/gen" --no-format
swift_check_header "$stage/gen/LichenFFI.h"
# The generated files keep their old time when unchanged, so Swift rebuilds only what changed.
for f in Lichen.swift LichenFFI.h; do
  cmp -s "$stage/gen/$f" "$stage/keep/$f" || cp "$stage/gen/$f" "$stage/keep/$f"
done

# The package as committed (not the app, not a Mac's xcframework), plus what was generated.
(cd ios && tar --exclude=.build --exclude=App --exclude=LichenFFI.xcframework -cf - .) |
  (cd "$stage/pkg" && tar -xf -)
# The bindings' own Swift tests join this run (one build of the generated module for both;
# scripts/test-swift.sh runs them alone in their own package).
mkdir -p "$stage/pkg/Tests/LichenBindingsTests"
cp -p bindings/swift/Tests/LichenTests/*.swift "$stage/pkg/Tests/LichenBindingsTests/"
mkdir -p "$stage/pkg/Sources/Lichen"
cp -p "$stage/keep/Lichen.swift" "$stage/pkg/Sources/Lichen/Lichen.swift"
cp -p "$stage/keep/LichenFFI.h" "$stage/pkg/Sources/LichenFFI/LichenFFI.h"
cp target/debug/liblichen_ffi.so "$stage/lib/"

SWIFT_JOB=ios swift_run "$stage/pkg" "$stage/lib" \
  "LICHEN_HOST_FFI=1 swift test ${LICHEN_SWIFT_FILTER:+--filter $LICHEN_SWIFT_FILTER}"
