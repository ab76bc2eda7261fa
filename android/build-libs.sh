#!/usr/bin/env bash
# On a machine with the Android SDK and NDK (ANDROID_HOME, ANDROID_NDK_HOME), Rust and
# cargo-ndk: builds liblichen_ffi.so for each ABI into lib/src/main/jniLibs, generates the
# Kotlin bindings into lib/src/main/kotlin, and assembles the AAR. NOT run on the machines
# this repository is developed on (no SDK there).
#   rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
#   cargo install cargo-ndk
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 --platform 26 \
  -o "$here/lib/src/main/jniLibs" build --release -p lichen-ffi
# The Kotlin is generated from a host build of the same sources (uniffi reads its metadata).
cargo build --release -p lichen-ffi -p uniffi-bindgen
rm -rf "$here/lib/src/main/kotlin/org/lichen"
target/release/uniffi-bindgen generate target/release/liblichen_ffi.so \
  --language kotlin --config bindings/uniffi.toml --out-dir "$here/lib/src/main/kotlin"
cd "$here"
${GRADLE:-./gradlew} :lib:assembleRelease
echo "AAR: $here/lib/build/outputs/aar/lib-release.aar"
