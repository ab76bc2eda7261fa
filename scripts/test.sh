#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need, then checks formatting and
# lints, runs every Rust test in the workspace, the binding tests in Python, Kotlin and Swift,
# the apps' logic tests, and every fuzz target for a short budget. Each step prints the time
# since the start, so a slow step shows in CI's log.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo "== $1 (at $((SECONDS / 60))m$((SECONDS % 60))s)"; }

# System packages, all in one apt run before anything else uses apt: libdbus-1-dev and
# pkg-config build btleplug (the `ble` feature, on for the CLI); dbus (dbus-daemon) and
# python3-dbusmock run the BlueZ D-Bus mock test (core/tests/ble_dbusmock.rs); debootstrap
# makes the Swift chroot; JNA and JUnit run the Kotlin tests on the JVM; clang and llvm-ar
# build ring's C for the phones' targets; Xvfb, ImageMagick and
# Mesa's software OpenGL show and screenshot the desktop window. Installed only when
# missing, as root, on Debian/Ubuntu.
. scripts/sysdeps.sh
ensure_pkgs "cmd:pkg-config=pkg-config" "pc:dbus-1=libdbus-1-dev" \
  "cmd:dbus-daemon=dbus" "py:dbusmock=python3-dbusmock" "cmd:debootstrap=debootstrap" \
  "file:/usr/share/java/jna.jar=libjna-java" "file:/usr/share/java/junit4.jar=junit4" \
  "cmd:java=default-jre-headless" "cmd:npm=npm" "cmd:clang=clang" "cmd:llvm-ar=llvm" \
  "${DESKTOP_PKGS[@]}"

# Python binding tests need pytest.
if ! python3 -m pytest --version >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check pytest
fi

# The Swift chroot (ADR 0028) is made in the background while Rust builds: it is mostly
# download and unpacking. Its log is shown if it fails; the Swift steps wait for it.
mkdir -p target
( . scripts/swift.sh && swift_chroot_ensure ) >target/swift-chroot.log 2>&1 &
swift_chroot_job=$!
trap 'kill "$swift_chroot_job" 2>/dev/null || true' EXIT
wait_for_swift_chroot() {
  if ! wait "$swift_chroot_job"; then
    cat target/swift-chroot.log >&2
    echo "the Swift chroot could not be made (log above)" >&2
    exit 1
  fi
}

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
step "format"
cargo fmt --all -- --check
step "the protocol crate stays sans-IO"
scripts/check-proto-deps.sh
step "the CLI stays on the front door"
scripts/check-cli-door.sh
scripts/check-node-faces.sh
step "lints (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "the apps build against the door (lichen without internals)"
scripts/check-door.sh
# Licences, bans and sources of the dependency tree, and advisories (deny.toml, ADR 0030).
# cargo-deny comes from crates.io when it is missing (once; its build takes ~320 s of CPU:
# about 3 to 5 minutes on a free 2-core machine, 46 min on one shared by 8 builders). The
# advisory database is fetched from outside crates.io; where that fails, the run says so
# loudly and checks the rest offline: never a silent skip.
step "cargo deny"
# Tools are built without LTO and with parallel codegen: minutes less on a fresh machine, and
# they run for seconds.
quick_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_DEBUG=0 cargo install --locked "$@"
}
if ! cargo deny --version >/dev/null 2>&1; then
  quick_install cargo-deny
fi
if timeout 300 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --locked check
else
  echo "cargo deny: the advisory database could not be fetched from here:" \
    "ADVISORIES NOT CHECKED in this run (licences, bans and sources are)" >&2
  cargo deny --locked --offline check licenses bans sources
fi
step "tests"
cargo test --workspace --locked
# `cargo check` of the bindings for aarch64-linux-android and aarch64-apple-ios (about 3 min:
# ring's C built by clang for each; no NDK or Xcode here, nothing linked, no APK or IPA).
step "the bindings check for the phones' targets"
scripts/check-mobile-targets.sh
# The desktop window's UI tests ran above (egui_kittest, in `cargo test`); here the real
# eframe window renders each main screen on Xvfb and is screenshotted (target/screenshots/).
step "the desktop window under Xvfb (screenshots)"
desktop/test.sh
step "Python binding tests"
bindings/test.sh
# The Swift step spends minutes compiling the 10k-line generated module, mostly on its own:
# it runs in the background beside the Kotlin steps and the fuzzing, its log is printed when
# it ends, and its failure fails the run.
wait_for_swift_chroot
step "Swift: the bindings' tests and the iOS app's logic (one build, trixie chroot; in the background)"
ios/test.sh >target/swift-step.log 2>&1 &
swift_step=$!
trap 'kill "$swift_chroot_job" "$swift_step" 2>/dev/null || true' EXIT
step "Kotlin binding tests (JVM, JNA)"
scripts/test-kotlin.sh
step "the Android app's logic (JVM, against the real library)"
android/test.sh

# --- fuzzing (a separate step; ADR 0021) ---------------------------------------------------
# Every libFuzzer target in fuzz/ runs from its committed seed corpus for a short budget
# (FUZZ_SECONDS each, default 5); a crash fails the run. A longer run is one command:
# RUNS=10000000 scripts/fuzz.sh. cargo-fuzz comes from crates.io when it is missing.
step "fuzzing (${FUZZ_SECONDS:-5} s per target)"
if ! cargo fuzz --version >/dev/null 2>&1; then
  quick_install cargo-fuzz
fi
SECONDS_PER_TARGET=${FUZZ_SECONDS:-5} scripts/fuzz.sh

step "the Swift step's result"
if wait "$swift_step"; then
  cat target/swift-step.log
else
  cat target/swift-step.log >&2
  echo "the Swift step failed (log above)" >&2
  exit 1
fi
step "done"
