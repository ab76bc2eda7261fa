#!/usr/bin/env python3
"""Runs the reference tinySSB simple pub (Python, cn-uofbasel/tinyssb-simplepub) as a
WebSocket initiator against a Lichen node, and records every packet it sent and received.

Writes the pub's store directory (its own layout, DATAPATH/<FID>/log.bin, frontier.bin) and a
JSON transcript: {"reference", "lichen_url", "packets": [{"t": seconds, "dir": "pub->lichen" |
"lichen->pub", "hex": ...}]}. Only generated data leaves this script: the pub's code is loaded
from PUB_DIR at run time and is not part of this repository. Needs `websockets` (PyPI).

    scripts/reference-pub-transcript.py --pub-dir DIR --data OUT/store --out OUT/transcript.json \
        --seconds 12 ws://127.0.0.1:PORT

vectors/reference/README.md says how the committed vectors were made.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time


class Recorder:
    """A WebSocket that writes down every binary frame in both directions."""

    def __init__(self, ws, log, t0):
        self.ws = ws
        self.log = log
        self.t0 = t0

    def _note(self, direction, pkt):
        if isinstance(pkt, (bytes, bytearray)):
            self.log.append({"t": round(time.time() - self.t0, 3), "dir": direction,
                             "hex": bytes(pkt).hex()})

    async def send(self, pkt):
        self._note("pub->lichen", pkt)
        await self.ws.send(pkt)

    async def recv(self):
        pkt = await self.ws.recv()
        self._note("lichen->pub", pkt)
        return pkt


async def run(args):
    import websockets
    sys.path.insert(0, args.pub_dir)
    os.makedirs(args.data, exist_ok=True)
    import spub  # noqa: E402  (the reference pub, from --pub-dir)
    import simplepub.node  # noqa: E402

    pub_args = argparse.Namespace(v=False, d=args.data, role="in")
    node = simplepub.node.PubNode(args.data, "in", False)
    log = []
    t0 = time.time()
    async with websockets.connect(args.url) as ws:
        try:
            await asyncio.wait_for(spub.onConnect(Recorder(ws, log, t0), node, pub_args),
                                   timeout=args.seconds)
        except asyncio.TimeoutError:
            pass
    rev = subprocess.run(["git", "-C", args.pub_dir, "rev-parse", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    with open(args.out, "w") as f:
        json.dump({
            "reference": "cn-uofbasel/tinyssb-simplepub spub.py, role 'in' (initiator)",
            "reference_commit": rev or args.commit,
            "seconds": args.seconds,
            "packets": log,
        }, f, indent=1)
        f.write("\n")
    print(f"{len(log)} packets recorded in {args.out}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pub-dir", required=True, help="checkout of tinyssb-simplepub")
    ap.add_argument("--commit", default="", help="its commit, when not a git checkout")
    ap.add_argument("--data", required=True, help="the pub's store directory (created)")
    ap.add_argument("--out", required=True, help="the transcript (JSON)")
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("url")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
