#!/usr/bin/env bash
# On a machine with the Android SDK: the debug APK (after build-libs.sh). NOT run on the
# machines this repository is developed on (no SDK there).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
[ -f lib/src/main/jniLibs/arm64-v8a/liblichen_ffi.so ] || ./build-libs.sh
${GRADLE:-./gradlew} :logic:test :app:assembleDebug
echo "APK: $here/app/build/outputs/apk/debug/app-debug.apk"
