"""The Python half of `bindings/bench/run.sh`: the same calls as `lichen-ffi-bench rust`,
through the generated binding (module `lichen_ffi`, on PYTHONPATH), on the same root,
followed by this process's memory.

    python3 bench.py ROOT_DIR ROUNDS

Prints one JSON object: medians in milliseconds, VmRSS/VmHWM in kB."""
import asyncio
import json
import sys
import threading
import time

import lichen_ffi as lichen

PAGE = 50


class FirstReset:
    """A chat-list listener that notes when the first diff (the Reset) arrives."""

    def __init__(self):
        self.done = threading.Event()
        self.count = None

    def on_update(self, diffs):
        if not self.done.is_set() and diffs and diffs[0].is_RESET():
            self.count = len(diffs[0].values)
            self.done.set()


def memory():
    got = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                got[key] = int(rest.split()[0])
    return got["VmRSS"], got["VmHWM"]


async def first_page(chats, chat_id):
    conv = chats.conversation(chat_id)
    page = await conv.page(None, PAGE)
    # Touch what a screen shows, as the Rust side does.
    return sum(len(m.text or "") + len(m.cursor) + len(m.author_name) for m in page.messages)


def list_reset(chats):
    listener = FirstReset()
    t = time.perf_counter()
    handle = chats.subscribe(listener)
    if not listener.done.wait(60):
        raise SystemExit("no Reset from the chat list in 60 s")
    ms = (time.perf_counter() - t) * 1000
    handle.cancel()
    if listener.count != 100:
        raise SystemExit(f"the Reset had {listener.count} chats, not 100")
    return ms


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


async def main(root_dir, rounds):
    # The same process before the root: the interpreter, asyncio and the loaded library.
    before_kb, _ = memory()
    t = time.perf_counter()
    root = await lichen.LichenBuilder(root_dir).open()
    open_ms = (time.perf_counter() - t) * 1000
    try:
        chats = root.chats()
        ids = [c.id for c in await chats.list()]
        if len(ids) != 100:
            raise SystemExit(f"{len(ids)} chats, not 100")
        await first_page(chats, ids[0])
        list_reset(chats)
        rss, hwm = memory()
        pages, lists = [], []
        for r in range(rounds):
            chat = ids[(r * 7) % len(ids)]
            t = time.perf_counter()
            await first_page(chats, chat)
            pages.append((time.perf_counter() - t) * 1000)
            lists.append(list_reset(chats))
        print(json.dumps({"open_root_ms": open_ms, "page_ms": median(pages),
                          "list_ms": median(lists), "rounds": rounds,
                          "vm_rss_kb": rss, "vm_hwm_kb": hwm,
                          "vm_rss_before_root_kb": before_kb}))
    finally:
        await root.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
