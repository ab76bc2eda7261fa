#!/usr/bin/env python3
"""Extracts the fuzz targets' seed corpora from the vector files in vectors/.

Run once from the repository root (python3 scripts/fuzz-seeds.py); its output, fuzz/corpus/<target>/,
is committed. Each seed is named by the SHA-1 of its bytes (as libFuzzer names inputs), and a
target gets at most MAX_SEEDS seeds of at most MAX_LEN bytes, so each corpus stays a few KB.
Running it again rewrites the corpora from scratch.
"""
import hashlib
import json
import pathlib
import re
import shutil
import struct
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors"
CORPUS = ROOT / "fuzz" / "corpus"
MAX_SEEDS = 24
MAX_LEN = 2048
HEX = re.compile(r"([0-9a-f]{2})+")


def load(name):
    return json.loads((VECTORS / name).read_text())


def strings(node, keys=None):
    """Every string under `node` whose key is in `keys` (all keys when None), in order."""
    out = []

    def walk(x, key):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, k)
        elif isinstance(x, list):
            for v in x:
                walk(v, key)
        elif isinstance(x, str) and (keys is None or key in keys):
            out.append(x)

    walk(node, None)
    return out


def hexes(node, keys):
    return [bytes.fromhex(s) for s in strings(node, keys) if HEX.fullmatch(s)]


def dicts_with(node, key):
    """Every dict under `node` that has `key`."""
    out = []

    def walk(x):
        if isinstance(x, dict):
            if key in x:
                out.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(node)
    return out


entries = load("tinyssb-entries.json")
replication = load("tinyssb-replication.json")
bipf = load("bipf.json")
box = load("private-box.json")
ms_v0 = load("moneysocket-v0.json")
ms_beacons = load("moneysocket-rfc-02-beacon.json")
ms_msg_ok = load("py-moneysocket-04-message-encode-decode.json")
ms_msg_bad = load("py-moneysocket-04-message-decode-error.json")
relay = load("py-moneysocket-relay.json")

entry_pkts = hexes(entries, {"pkt"})
repl_pkts = hexes(replication, {"pkt", "canonical_pkt", "also_accept_android_esp32_pkt"})
beacon_texts = [s for s in strings(ms_beacons, {"encoded", "beacon"})] + strings(
    ms_v0, {"beacon"}
)
beacon_texts = [s for s in beacon_texts if s.startswith("moneysocket")]
relay_frames = []
for step in relay["transcript"]:
    if "hex" in step:
        relay_frames.append(bytes.fromhex(step["hex"]))
    elif "utf8" in step:
        relay_frames.append(step["utf8"].encode())
ms_messages = hexes(ms_msg_ok, {"encoded"}) + [
    b"".join(bytes.fromhex(c) for c in d["input_chunks"] if isinstance(c, str) and HEX.fullmatch(c))
    for d in ms_msg_bad
    if isinstance(d.get("input_chunks"), list)
]


def gatt(kind, body=b""):
    return struct.pack(">H", 1 + len(body)) + bytes([kind]) + body


CHAR = bytes(range(16))
gatt_seeds = [
    gatt(0x01) + gatt(0x03, struct.pack(">H", 247)) + gatt(0x05),
    gatt(0x07, CHAR) + gatt(0x09, b"\x00") + gatt(0x0B),
] + [gatt(0x08, CHAR + p) + gatt(0x0A, CHAR + p) for p in entry_pkts[:6]]


def want_chnk_bodies():
    out = []
    for p in repl_pkts:
        body = p[7:]
        if body[:1] and body[0] >> 5 == 4:  # a BIPF list
            out.append(body)
    return out or [p[7:] for p in repl_pkts]


def matchmaker_seed():
    # Two clients (conn 0 and 1) ask for the same rendezvous, then exchange a binary frame.
    out = []
    for s in relay["transcript"]:
        if s.get("dir") != "sent":
            continue
        data = bytes.fromhex(s["hex"]) if "hex" in s else s.get("utf8", "").encode()
        out.append(bytes([0 if s.get("client") == "A" else 1]) + data.replace(b"\xff", b""))
    return [b"\xff".join(out), b"\xff".join(out[:2] + [b"\xf0"] + out[2:])]


SEEDS = {
    "bipf": hexes(bipf, {"hex", "android_esp32_hex", "python_reference_hex", "bytes"}),
    "entry": [p + c for p, c in zip(entry_pkts, entry_pkts[1:] + [b""])],
    "goset": [p[7:] for p in repl_pkts if p[7:8] in (b"c", b"n")] + repl_pkts[:4],
    "request": want_chnk_bodies() + hexes(replication, {"bipf_body"}),
    "frame_inspect": entry_pkts[:8] + repl_pkts[:8] + [
        p + struct.pack(">I", zlib.crc32(p)) for p in entry_pkts[:4] + repl_pkts[:4]
    ],
    "identity": strings(entries, {"ssb_ref", "did"})
    + [s.hex() for s in hexes(entries, {"fid"})]
    + strings(box, {"ssb_ref"}),
    "ms_beacon": beacon_texts,
    "invite": beacon_texts,
    "ms_tlv": hexes(ms_v0, {"tlv_bytes", "seed_tlv_v0"}) + ms_messages[:6],
    "ms_message": ms_messages + hexes(ms_v0, {"wire"}),
    "ms_wad_provider": [
        json.dumps(d).encode()
        for f in (
            "moneysocket-rfc-03-wad-encode.json",
            "moneysocket-rfc-03-provider-info-encode.json",
        )
        for d in [x.get("wad") or x.get("provider_info") for x in load(f)]
        if d is not None
    ]
    + [json.dumps(x["input"]).encode() for x in load("moneysocket-rfc-03-wad-decode-error.json")[:6]],
    "tunnel": relay_frames,
    "relay_matchmaker": matchmaker_seed(),
    "gatt_wire": gatt_seeds,
    "chat_content": hexes(entries, {"content"})
    + hexes(box, {"app_entry_content", "plaintext"}),
    # Mode byte first (see the target): 0 a raw log.bin, 1 the valid log (no patches, or a
    # patch in the second entry), 2 frontier.bin and mid.bin.
    "reference_import": [b"\x01", b"\x01\x00\x80\x01", b"\x02\x00\x00"]
    + [b"\x00" + p + bytes(4) for p in entry_pkts[:2]],
    # Operation bytes (see the target): honest rounds, replays of authored packets, a next-entry
    # DMX with garbage, GOset/WANT/CHNK DMXs with garbage, a real entry with one byte flipped,
    # raw bytes and an entry-length frame.
    "two_engines": [
        bytes([14, 3, 50, 50, 50, 50, 15, 3, 200, 200, 200, 200]),
        bytes([10, 0, 11, 5, 14, 3, 100, 100, 100, 100, 12, 7, 13, 9, 10, 3]),
        bytes([4, 0]) + bytes(range(113)) + bytes([14, 1, 10, 10]),
        bytes([8, 0, 40]) + bytes((i * 7) & 255 for i in range(40)) + bytes([14, 2, 20, 20, 20]),
        bytes([8, 1, 30]) + bytes(30) + bytes([9, 2, 12]) + bytes(range(12)),
        bytes([6, 1, 3, 20, 0x55, 7, 0, 5, 60, 1, 14, 1, 30, 30]),
        bytes([0, 5, 1, 2, 3, 4, 5, 3]) + bytes(range(120)),
    ],
}


def main():
    for target, seeds in SEEDS.items():
        out = CORPUS / target
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        kept = 0
        for s in seeds:
            if isinstance(s, str):
                s = s.encode()
            if not s or len(s) > MAX_LEN or kept >= MAX_SEEDS:
                continue
            name = hashlib.sha1(s).hexdigest()
            if not (out / name).exists():
                (out / name).write_bytes(s)
                kept += 1
        size = sum(f.stat().st_size for f in out.iterdir())
        print(f"{target}: {kept} seeds, {size} bytes")


if __name__ == "__main__":
    main()
