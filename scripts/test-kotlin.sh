#!/usr/bin/env bash
# Kotlin tests of the bindings (bindings/kotlin/tests) on the JVM against the host library
# through JNA: builds lichen-ffi, generates the Kotlin from that very library, compiles it and
# the tests (each jar only when its sources changed), and runs them with JUnit 4.
# Exits non-zero on any failure; nothing is skipped. Installs its tools via scripts/kotlin.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. scripts/kotlin.sh
kotlin_ensure
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/kotlin-bindings"
kotlin_bindings_jar "$out"

tests=(bindings/kotlin/tests/*.kt)
jar="$out/lichen-kotlin-tests.jar"
sum=$( (cat "$out/lichen-bindings.sum"; cat "${tests[@]}") | sha256sum | cut -d' ' -f1)
if [ ! -f "$jar" ] || [ "$(cat "$out/lichen-kotlin-tests.sum" 2>/dev/null)" != "$sum" ]; then
  echo "kotlin: compiling the binding tests"
  rm -f "$out/lichen-kotlin-tests.sum"
  "$KOTLINC" -nowarn -cp "$KOTLIN_CP:$LICHEN_BINDINGS_JAR" -d "$jar" "${tests[@]}"
  echo "$sum" >"$out/lichen-kotlin-tests.sum"
fi

cp="$KOTLIN_CP:$LICHEN_BINDINGS_JAR:$jar:$KOTLIN_HOME/lib/kotlin-stdlib.jar"
classes=(org.lichen.test.AppTest org.lichen.test.CentralTest org.lichen.test.ResponsiveTest)
java -Djna.library.path="$LICHEN_LIB_DIR" -cp "$cp" org.junit.runner.JUnitCore "${classes[@]}"
