#!/usr/bin/env bash
# Builds the Python wheel of the bindings with maturin (bindings/pyproject.toml, uniffi
# mode), installs it into a fresh venv and uses it as a user would: `import lichen`, the
# version, and one real call (a new root in a temporary directory, then its feed id).
#
# maturin comes from PyPI into a venv under target/ (kept between runs). The wheel is built
# in cargo's dev profile, which shares the test build's compiled crates (dependencies are
# optimised there too); a release wheel is `maturin build --release` from bindings/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
tools="$target/wheel-tools"
if [ ! -x "$tools/bin/maturin" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q 'maturin>=1.5,<2'
fi
# maturin generates the Python module with the workspace's own uniffi-bindgen (the same
# uniffi version as the library), found on PATH.
cargo build -q -p uniffi-bindgen
export PATH="$target/debug:$PATH"

out="$target/wheel"
rm -rf "$out"
"$tools/bin/maturin" build -q -m bindings/Cargo.toml --out "$out/dist"
wheel=$(ls "$out"/dist/lichen-*.whl)
echo "test-wheel: built $(basename "$wheel")"
python3 -c 'import sys, zipfile; n = zipfile.ZipFile(sys.argv[1]).namelist(); print("  " + "\n  ".join(n))' "$wheel"

python3 -m venv "$out/venv"
"$out/venv/bin/pip" install -q "$wheel"
# Run from a directory without the sources, so that only the installed package can answer.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$out/venv/bin/python" - "$tmp/root" <<'PY'
import asyncio
import os
import sys

import lichen

print("test-wheel: lichen", lichen.lichen_version(), "from", os.path.dirname(lichen.__file__))
here = os.path.dirname(os.path.abspath(lichen.__file__))
assert here.endswith(os.path.join("site-packages", "lichen")), here
libs = [f for f in os.listdir(here) if f.endswith(".so")]
assert libs, f"no library inside the package: {os.listdir(here)}"


async def main(data_dir):
    root = await lichen.LichenBuilder(data_dir).create()
    try:
        fid = root.feed_id()
        assert fid.startswith("@") and fid.endswith(".ed25519"), fid
        names = [c.kind for c in await root.chats().list()]
        assert lichen.ChatKind.PUBLIC in names, names
        print("test-wheel: created a root,", fid[:12] + "…,", len(names), "chats")
    finally:
        await root.shutdown()


asyncio.run(main(sys.argv[1]))
PY
echo "test-wheel: ok"
