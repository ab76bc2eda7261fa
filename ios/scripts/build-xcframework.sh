#!/bin/sh
# On a Mac with Xcode and rustup: builds the Rust library for iOS devices and both
# simulators, generates the Swift bindings, and makes ios/LichenFFI.xcframework (the
# package's binary target) with the C header and module map. Not run on the Linux machines
# the rest of the project is tested on (no Apple SDK there).
#   ios/scripts/build-xcframework.sh [debug|release]   (default release)
set -eu
profile=${1:-release}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
[ "$(uname)" = Darwin ] || { echo "build-xcframework: needs macOS with Xcode" >&2; exit 1; }
flag=--release; [ "$profile" = debug ] && flag=
targets="aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios"
rustup target add $targets
for t in $targets; do
  cargo build $flag -p lichen-ffi --lib --target "$t"
done
# The bindings come from the host build of the same crate (same source, same interface).
cargo build -p lichen-ffi -p uniffi-bindgen
gen=target/ios-gen
rm -rf "$gen" && mkdir -p "$gen/headers"
target/debug/uniffi-bindgen generate target/debug/liblichen_ffi.dylib --language swift \
  --out-dir "$gen" --no-format
. scripts/swift.sh
swift_check_header "$gen/LichenFFI.h"
cp "$gen/LichenFFI.h" "$gen/headers/LichenFFI.h"
cat > "$gen/headers/module.modulemap" <<'MAP'
module LichenFFI {
    header "LichenFFI.h"
    export *
}
MAP
mkdir -p ios/Sources/Lichen
cp "$gen/Lichen.swift" ios/Sources/Lichen/Lichen.swift
# One simulator slice holding both simulator architectures.
sim=target/ios-sim-universal/$profile
mkdir -p "$sim"
lipo -create -output "$sim/liblichen_ffi.a" \
  "target/aarch64-apple-ios-sim/$profile/liblichen_ffi.a" \
  "target/x86_64-apple-ios/$profile/liblichen_ffi.a"
rm -rf ios/LichenFFI.xcframework
xcodebuild -create-xcframework \
  -library "target/aarch64-apple-ios/$profile/liblichen_ffi.a" -headers "$gen/headers" \
  -library "$sim/liblichen_ffi.a" -headers "$gen/headers" \
  -output ios/LichenFFI.xcframework
echo "made ios/LichenFFI.xcframework ($profile)"
