#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need, then checks formatting and
# lints, runs every Rust test in the workspace, and the Python binding tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python binding tests need pytest.
if ! python3 -m pytest --version >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check pytest
fi

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
echo "== format"
cargo fmt --all -- --check
echo "== lints (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
cargo test --workspace --locked
echo "== Python binding tests"
bindings/test.sh
