#!/usr/bin/env bash
# The bindings benchmark (docs/BENCHMARKS.md, "Bindings"): a root holding 100 000 messages in
# 100 chats, made once and kept under target/, then in one run, release builds both:
#   * a conversation's first page of 50: Python binding vs lichen::App in Rust;
#   * the chat list's first Reset (100 chats): binding subscription vs App::chat_list;
#   * resident memory of a process holding the root open (Rust, and the Python process).
# Rust and Python alternate (a sled store admits one process at a time): Rust, Python, Rust.
#
#   bindings/bench/run.sh [MESSAGES [ROUNDS]]      (defaults 100000, 30)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
messages="${1:-100000}"
rounds="${2:-30}"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo build -q --release -p lichen-ffi -p lichen-ffi-bench
cargo build -q -p uniffi-bindgen
py="$target/ffibench/py"
rm -rf "$py" && mkdir -p "$py"
"$target/debug/uniffi-bindgen" generate "$target/release/liblichen_ffi.so" \
  --language python --out-dir "$py" --no-format >/dev/null
cp "$target/release/liblichen_ffi.so" "$py/"

data="$target/ffibench/root-$messages"
bench="$target/release/lichen-ffi-bench"
echo "making the root ($messages messages; kept for later runs) ..." >&2
"$bench" make "$data" "$messages" >&2
r1=$("$bench" rust "$data" "$rounds")
p=$(PYTHONPATH="$py" python3 "$root/bindings/bench/bench.py" "$data" "$rounds")
r2=$("$bench" rust "$data" "$rounds")
m=$("$bench" rss "$data")

python3 - "$r1" "$p" "$r2" "$m" "$messages" <<'PY'
import json
import sys

r1, p, r2, m = (json.loads(a) for a in sys.argv[1:5])
messages = int(sys.argv[5])
target_mb = 80


def rust(key):
    return (r1[key] + r2[key]) / 2


print(f"bindings benchmark: {messages} messages in 100 chats, {p['rounds']} rounds, medians")
print(f"{'':40} {'Python':>10} {'Rust App':>10} {'ratio':>7}")
for name, key in [("open conversation + first page (50)", "page_ms"),
                  ("chat list Reset (100 chats)", "list_ms"),
                  ("open the root", "open_root_ms")]:
    print(f"{name:40} {p[key]:8.2f}ms {rust(key):8.2f}ms {p[key] / rust(key):6.2f}x")
print(f"(Rust runs before and after Python: page {r1['page_ms']:.2f} / {r2['page_ms']:.2f} ms, "
      f"list {r1['list_ms']:.2f} / {r2['list_ms']:.2f} ms)")
for who, d in [("Rust process", m), ("Python process", p)]:
    rss, hwm = d["vm_rss_kb"] / 1024, d["vm_hwm_kb"] / 1024
    ok = "under" if hwm < target_mb else "OVER"
    print(f"{who:16} holding the root open: VmRSS {rss:.1f} MB, VmHWM {hwm:.1f} MB "
          f"({ok} the {target_mb} MB target)")
before = p["vm_rss_before_root_kb"] / 1024
print(f"Python process before opening the root (interpreter, asyncio, the library loaded): "
      f"VmRSS {before:.1f} MB; the open root adds {p['vm_rss_kb'] / 1024 - before:.1f} MB")
PY
