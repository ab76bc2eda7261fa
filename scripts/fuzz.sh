#!/usr/bin/env bash
# Builds every fuzz target once, then runs each (or the ones named) from its committed seed
# corpus (fuzz/corpus/<target>, made by scripts/fuzz-seeds.py) for a fixed budget, and prints
# a line per target with the executions done. A crash fails the script and prints the input.
#
#   scripts/fuzz.sh                   # all targets, 100000 executions each
#   RUNS=1000000 scripts/fuzz.sh bipf goset
#   SECONDS_PER_TARGET=10 scripts/fuzz.sh   # a time budget instead (what CI uses)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). Builds with the pinned stable
# toolchain and RUSTC_BOOTSTRAP=1 (libFuzzer's coverage flags are nightly features), without
# a sanitizer; SANITIZER=address uses the nightly toolchain with AddressSanitizer instead.
# New inputs go to a temporary directory: the committed corpus is only read. Builds in
# target/fuzz of the repository (one target directory).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
runs=${RUNS:-100000}
budget=(-runs="$runs")
if [ -n "${SECONDS_PER_TARGET:-}" ]; then
  budget=(-max_total_time="$SECONDS_PER_TARGET")
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"/\1/p' Cargo.toml | grep -v lichen-fuzz)
fi
tdir="$root/target/fuzz"
if [ "${SANITIZER:-none}" = address ]; then
  fuzz=(cargo +nightly fuzz build --target-dir "$tdir")
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz build --sanitizer none --target-dir "$tdir")
fi
if [ $# -eq 1 ]; then "${fuzz[@]}" "$1"; else "${fuzz[@]}"; fi
bin="$tdir/$(rustc -vV | sed -n 's/^host: //p')/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "$work/$t.crash"
  log="$work/$t.log"
  if "$bin/$t" "$work/$t" "corpus/$t" "${budget[@]}" -max_len=4096 \
    -artifact_prefix="$work/$t.crash/" >"$log" 2>&1; then
    done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -1)
    echo "$t: ${done_line:-finished} (seeds $(ls "corpus/$t" | wc -l), new inputs $(ls "$work/$t" | wc -l))"
  else
    status=1
    echo "$t: FAILED — the crash:"
    grep -v '^#' "$log" | tail -40
    for f in "$work/$t.crash"/*; do
      [ -f "$f" ] || continue
      echo "input ($(basename "$f")), hex:"; od -An -tx1 -v "$f" | tr -d ' \n' | head -c 8192; echo
    done
  fi
done
exit $status
