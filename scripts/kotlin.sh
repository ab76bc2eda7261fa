# Sourced by the Kotlin test scripts: a Kotlin compiler, JNA and JUnit for the JVM here, and
# the Kotlin bindings generated from the very library that ships (ENVIRONMENT.md, ADR 0028).
#   . scripts/kotlin.sh; kotlin_ensure; kotlin_bindings_jar OUT_DIR (or kotlin_bindings OUT_DIR)
# Sets KOTLINC, KOTLIN_CP (JNA, JUnit, hamcrest, kotlinx-coroutines) and LICHEN_LIB_DIR.
# The compiler is the npm package kotlin-compiler (Maven Central is out of reach here), kept
# under target/tools; JNA and JUnit are Debian's. Debian's own kotlin (1.3) is too old.
KOTLIN_VERSION=2.4.20
_kt_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_kt_target="${CARGO_TARGET_DIR:-$_kt_root/target}"
KOTLIN_HOME="${LICHEN_TOOLS:-$_kt_target/tools}/kotlinc-$KOTLIN_VERSION"

kotlin_ensure() {
  . "$_kt_root/scripts/sysdeps.sh"
  ensure_pkgs "cmd:java=default-jre-headless" "file:/usr/share/java/jna.jar=libjna-java" \
    "file:/usr/share/java/junit4.jar=junit4" "cmd:npm=npm"
  if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
    echo "kotlin: fetching kotlin-compiler@$KOTLIN_VERSION from npm (once)"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null && tar xzf ./*.tgz)
    mkdir -p "$(dirname "$KOTLIN_HOME")"
    rm -rf "$KOTLIN_HOME" && mv "$tmp/package" "$KOTLIN_HOME" && rm -rf "$tmp"
    chmod +x "$KOTLIN_HOME"/bin/*
  fi
  KOTLINC="$KOTLIN_HOME/bin/kotlinc"
  KOTLIN_CP="/usr/share/java/jna.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar:$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar"
  export KOTLINC KOTLIN_CP
}

# kotlin_bindings OUT_DIR: builds the bindings library, writes the generated Kotlin to
# OUT_DIR/src and the library to OUT_DIR/lib (LICHEN_LIB_DIR), for -Djna.library.path.
kotlin_bindings() {
  local out=$1
  # The whole workspace, so features unify as in `cargo test --workspace` and nothing is
  # compiled twice (building lichen-ffi alone would build lichen again without `ble`).
  (cd "$_kt_root" && cargo build -q --workspace --locked)
  mkdir -p "$out/src" "$out/lib"
  "$_kt_target/debug/uniffi-bindgen" generate "$_kt_target/debug/liblichen_ffi.so" \
    --language kotlin --out-dir "$out/src" --no-format >/dev/null
  cp "$_kt_target/debug/liblichen_ffi.so" "$out/lib/"
  LICHEN_LIB_DIR="$out/lib"
  export LICHEN_LIB_DIR
}

# kotlin_bindings_jar OUT_DIR: kotlin_bindings, then the generated Kotlin compiled once into
# OUT_DIR/lichen-bindings.jar (sets LICHEN_BINDINGS_JAR). The jar is rebuilt only when the
# generated sources change (their hash is kept beside it): kotlinc takes about a minute on it,
# and the binding tests and the Android logic tests share it.
kotlin_bindings_jar() {
  local out=$1
  kotlin_bindings "$out"
  local sum; sum=$(cat "$out"/src/org/lichen/*.kt | sha256sum | cut -d' ' -f1)
  LICHEN_BINDINGS_JAR="$out/lichen-bindings.jar"
  if [ ! -f "$LICHEN_BINDINGS_JAR" ] || [ "$(cat "$out/lichen-bindings.sum" 2>/dev/null)" != "$sum" ]; then
    echo "kotlin: compiling the generated bindings"
    "$KOTLINC" -nowarn -cp "$KOTLIN_CP" -d "$LICHEN_BINDINGS_JAR" "$out"/src/org/lichen/*.kt || return 1
    echo "$sum" >"$out/lichen-bindings.sum"
  fi
  export LICHEN_BINDINGS_JAR
}
