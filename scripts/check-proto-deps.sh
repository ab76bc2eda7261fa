#!/usr/bin/env bash
# Keeps the protocol crate sans-IO by construction: fails if lichen-proto's dependency tree
# (normal dependencies, every feature) holds a runtime, storage, socket or WebSocket crate, or
# if its source opens files, sockets, processes or threads. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

banned='^(tokio|tokio-[a-z-]+|sled|tungstenite|tokio-tungstenite|socket2|mio|async-std|async-io|smol|polling|hyper|reqwest|rustls|btleplug|uniffi)$'
crates=$(cargo tree -p lichen-proto --edges normal --all-features --prefix none --format '{p}' --locked \
  | awk '{print $1}' | sort -u)
bad=$(grep -E "$banned" <<<"$crates" || true)
if [ -n "$bad" ]; then
  echo "lichen-proto must stay sans-IO, but its dependency tree holds:" >&2
  echo "$bad" >&2
  exit 1
fi

io=$(grep -rnE 'std::(fs|net|process|thread)\b|tokio::|sled::' proto/src || true)
if [ -n "$io" ]; then
  echo "lichen-proto must stay sans-IO, but its source uses I/O:" >&2
  echo "$io" >&2
  exit 1
fi
echo "lichen-proto: $(wc -l <<<"$crates") crates in its tree, none of them I/O; no I/O in its source"
