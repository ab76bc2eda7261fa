#!/usr/bin/env bash
# `cargo check` of the bindings (lichen-ffi, without the `ble` feature, as the apps build it)
# for the phones: aarch64-linux-android and aarch64-apple-ios.
#
# rustls uses `ring`, whose build script compiles C and assembly even for `cargo check`, so
# each target needs a C compiler for it. No NDK or Xcode reaches this machine: Debian's
# clang cross-compiles ring's code for both targets (`--target=…`). ring's C needs no libc of
# the target: `-ffreestanding -nostdlibinc` keep clang to its own headers (never the host's
# glibc ones) and `RING_CORE_NOSTDLIBINC` is ring's own switch for building so. On Apple it
# includes the SDK's TargetConditionals.h, for which a five-line stand-in (an iPhone device)
# is written under target/. This checks that the Rust compiles and that ring's C and assembly
# build for the phones; it links nothing and builds no APK or IPA.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! command -v clang >/dev/null || ! command -v llvm-ar >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y --no-install-recommends clang llvm >/dev/null
  else
    echo "check-mobile-targets: needs clang and llvm-ar (apt-get install clang llvm)" >&2
    exit 1
  fi
fi
rustup target add aarch64-linux-android aarch64-apple-ios >/dev/null

# Android API 21 is the oldest the NDK still targets; iOS 13 the oldest Swift concurrency runs on.
shim="${CARGO_TARGET_DIR:-$root/target}/mobile-shim"
mkdir -p "$shim"
cat >"$shim/TargetConditionals.h" <<'H'
/* Stand-in for the iOS SDK's header (Lichen's scripts/check-mobile-targets.sh): a device. */
#define TARGET_OS_MAC 1
#define TARGET_OS_IPHONE 1
#define TARGET_OS_IOS 1
#define TARGET_OS_OSX 0
#define TARGET_OS_SIMULATOR 0
H
export CC_aarch64_linux_android=clang AR_aarch64_linux_android=llvm-ar
export CFLAGS_aarch64_linux_android="--target=aarch64-linux-android21 -ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1"
export CC_aarch64_apple_ios=clang AR_aarch64_apple_ios=llvm-ar
export CFLAGS_aarch64_apple_ios="--target=arm64-apple-ios13.0 -ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -I$shim"
# cc-rs asks `xcrun` for the iPhone SDK unless SDKROOT names one; the stand-in folder is all
# ring's freestanding C needs. The deployment target is the same iOS 13.
export SDKROOT="$shim" IPHONEOS_DEPLOYMENT_TARGET=13.0

status=0
for t in aarch64-linux-android aarch64-apple-ios; do
  echo "== cargo check -p lichen-ffi --target $t"
  if ! cargo check -p lichen-ffi --target "$t" --locked; then
    echo "check-mobile-targets: lichen-ffi does not check for $t" >&2
    status=1
  fi
done
exit $status
