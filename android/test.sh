#!/usr/bin/env bash
# The Android app's logic (android/logic: plain Kotlin, no android.*) compiled with kotlinc
# and its JUnit tests run on the JVM against the real library (JNA + the host
# liblichen_ffi.so). No Android SDK or Gradle is needed; the android.* layer (android/app)
# is not built here. Compiled output is cached under target/android-kt, keyed by the hash
# of the sources, so a second run only runs the tests. Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/kotlin.sh"
kotlin_ensure
out="${CARGO_TARGET_DIR:-$root/target}/android-kt"
# The generated bindings, compiled once into the jar the binding tests use too
# (scripts/kotlin.sh; Link.close() is disconnect() in Kotlin, bindings/uniffi.toml).
kotlin_bindings_jar "${CARGO_TARGET_DIR:-$root/target}/kotlin-bindings"

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
mapfile -t main_src < <(find "$root/android/logic/src/main/kotlin" -name '*.kt' | sort)
mapfile -t test_src < <(find "$root/android/logic/src/test/kotlin" -name '*.kt' | sort)
cp_base="$KOTLIN_CP:$LICHEN_BINDINGS_JAR"

main_sum=$(hash_of "${LICHEN_BINDINGS_JAR%.jar}.sum" "${main_src[@]}")
if [ ! -f "$out/logic.jar" ] || [ "$(cat "$out/logic.sum" 2>/dev/null)" != "$main_sum" ]; then
  echo "android: compiling logic (${#main_src[@]} files)"
  rm -f "$out/logic.sum" "$out/logic-tests.sum"
  "$KOTLINC" -Werror -jvm-target 17 -cp "$cp_base" -d "$out/logic.jar" "${main_src[@]}"
  echo "$main_sum" >"$out/logic.sum"
fi
test_sum=$(echo "$main_sum" | cat - "${test_src[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$out/logic-tests.jar" ] || [ "$(cat "$out/logic-tests.sum" 2>/dev/null)" != "$test_sum" ]; then
  echo "android: compiling logic tests (${#test_src[@]} files)"
  "$KOTLINC" -nowarn -jvm-target 17 -cp "$cp_base:$out/logic.jar" -d "$out/logic-tests.jar" "${test_src[@]}"
  echo "$test_sum" >"$out/logic-tests.sum"
fi

# One test class per *Test.kt file, named after it.
classes=$(for f in "${test_src[@]}"; do b=$(basename "$f" .kt); case $b in *Test) echo "org.lichen.app.logic.$b";; esac; done)
[ -n "$classes" ] || { echo "android: no test classes found" >&2; exit 1; }
echo "android: running $(echo "$classes" | wc -l) test classes on the JVM"
# shellcheck disable=SC2086
java -Djna.library.path="$LICHEN_LIB_DIR" -cp "$KOTLIN_HOME/lib/kotlin-stdlib.jar:$cp_base:$out/logic.jar:$out/logic-tests.jar" \
  org.junit.runner.JUnitCore $classes
