#!/usr/bin/env bash
# Keeps the user binary on the front door (issue 11, ADR 0023): fails if cli/src names the
# engine, the links, the node or the store below `lichen::App` — `lichen::face`,
# `lichen::sync`, `lichen::store`, `lichen::node`, `SledStore`, `Node::`, `NodeEvent` — also
# inside a grouped `use lichen::{…}`. Tests may reach below the door only through the door's
# own accessors (`App::node()`). Run by scripts/test.sh.
# The benchmarks and developer tools live in bench/ (lichen-bench), the relay server in relay/;
# nothing in cli/src is excepted.
# CLI_SRC=DIR checks another tree (e.g. an old commit's cli/src).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${CLI_SRC:-cli/src}

below='lichen::(face|sync|store|node)\b|\bSledStore\b|\bNode::|\bNodeEvent\b|lichen::\{[^}]*\b(face|sync|store|node)\b'
hits=$(grep -rnE "$below" "$src" --include='*.rs' || true)
if [ -n "$hits" ]; then
  echo "the CLI must use the front door (lichen::App), but cli/src reaches below it:" >&2
  echo "$hits" >&2
  exit 1
fi
files=$(find "$src" -name '*.rs' | wc -l)
echo "cli/src: $files files on the front door; none names face, sync, store or node internals"
