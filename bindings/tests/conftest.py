"""Shared helpers for the binding tests: an asyncio runner and listeners that record."""
import asyncio
import threading
import time

import pytest

import lichen_ffi as lichen


def run(coro):
    """Runs one test's coroutine on a fresh event loop."""
    return asyncio.run(coro)


async def wait_for(what, check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Recorder:
    """A list or timeline listener that applies the diffs to a list, as a UI would, and
    keeps every diff it got."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.diffs = []
        self.resets = 0

    def on_update(self, diffs):
        with self.lock:
            for d in diffs:
                self.diffs.append(d)
                if d.is_RESET():
                    self.items = list(d.values)
                    self.resets += 1
                elif d.is_INSERT():
                    self.items.insert(d.index, d.value)
                elif d.is_SET():
                    self.items[d.index] = d.value
                elif d.is_REMOVE():
                    del self.items[d.index]
                elif d.is_PUSH_FRONT():
                    self.items[0:0] = list(d.values)
                elif d.is_APPEND():
                    self.items.extend(d.values)
                else:
                    raise AssertionError(f"unknown diff {d!r}")

    def snapshot(self):
        with self.lock:
            return list(self.items)

    def kinds(self):
        with self.lock:
            return [type(d).__name__.rsplit(".", 1)[-1] for d in self.diffs]


class ListRecorder(Recorder, lichen.ChatListListener):
    pass


class TimelineRecorder(Recorder, lichen.TimelineListener):
    pass


async def create(path):
    return await lichen.LichenBuilder(str(path)).create()
