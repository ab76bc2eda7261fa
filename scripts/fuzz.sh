#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a fixed number of executions each and prints
# a line per target with the executions done.
#
#   scripts/fuzz.sh                 # all targets, 100000 executions each
#   RUNS=1000000 scripts/fuzz.sh bipf goset
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Uses the nightly toolchain when it is
# installed (address sanitizer on); otherwise stable with RUSTC_BOOTSTRAP=1 and no sanitizer.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
runs=${RUNS:-100000}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list 2>/dev/null || sed -n 's/^name = "\(.*\)"/\1/p' Cargo.toml | grep -v lichen-fuzz)
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
  fuzz=(cargo +nightly fuzz run)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz run --sanitizer none)
fi
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if "${fuzz[@]}" "$t" "corpus/$t" -- -runs="$runs" -max_len=4096 >"$log" 2>&1; then
    done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -1)
    echo "$t: ${done_line:-finished} (corpus $(ls "corpus/$t" | wc -l) inputs)"
  else
    echo "$t: FAILED — see the crash below"; tail -40 "$log"; status=1
  fi
  rm -f "$log"
done
exit $status
