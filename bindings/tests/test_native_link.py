"""Phone-to-phone native links on the root: frames relayed by Python code as a phone's GATT
server would, an MTU too small refused at attach, a raising sender, a hung sender."""
import asyncio
import threading
import time

import pytest

import lichen_ffi as lichen
from conftest import create, run, wait_for


class Relay(lichen.FrameSender):
    """What a phone's GATT server does, in Python: sends each frame Lichen gives it to the
    other phone, which hands it to its node (here: directly to the other NativeLink)."""

    def __init__(self):
        self.peer = None
        self.ready = threading.Event()
        self.sent = 0

    def send(self, frame):
        if not self.ready.wait(5):
            return lichen.SendOutcome.REFUSED(reason="no peer yet")
        try:
            self.peer.frame_in(frame)
        except lichen.LinkError.LinkDown as e:
            return lichen.SendOutcome.REFUSED(reason=str(e))
        self.sent += 1
        return lichen.SendOutcome.SENT()


def test_two_roots_replicate_over_a_native_link(tmp_path):
    async def main():
        a = await create(tmp_path / "a")
        b = await create(tmp_path / "b")
        try:
            long_text = "a post long enough for a side chain " * 4
            await a.chats().send_public("hello over BLE")
            await a.chats().send_public(long_text)
            to_b, to_a = Relay(), Relay()
            link_a = a.links().attach_native_link("phone-b", 128, to_b)
            link_b = b.links().attach_native_link("phone-a", 128, to_a)
            to_b.peer, to_a.peer = link_b, link_a
            to_b.ready.set()
            to_a.ready.set()
            pub_b = b.chats().public_channel()

            async def texts():
                return [m.text for m in (await pub_b.page(None, 10)).messages]
            got = []

            async def both():
                got[:] = await texts()
                return got == ["hello over BLE", long_text]
            deadline = time.monotonic() + 30
            while not await both():
                assert time.monotonic() < deadline, got
                await asyncio.sleep(0.05)
            assert to_b.sent > 0 and to_a.sent > 0
            links = await a.links().list()
            assert [(l.kind, l.peer) for l in links] == [("ble", "phone-b (phone-b)")]
            # The platform reports the link down: the node drops the face, frames are refused.
            link_a.link_down("phone walked away")
            assert not link_a.is_up()
            deadline = time.monotonic() + 10
            while await a.links().list():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            with pytest.raises(lichen.LinkError.LinkDown) as e:
                link_a.frame_in(bytes(120))
            assert "phone walked away" in str(e.value)
            assert link_b.is_up()
            # A root that stops ends its links too.
            await b.shutdown()
            await wait_for("b's link to end", lambda: not link_b.is_up(), timeout=10)
        finally:
            await a.shutdown()
            await b.shutdown()
    run(main())


class Silent(lichen.FrameSender):
    def send(self, frame):
        return lichen.SendOutcome.SENT()


def test_an_mtu_below_a_whole_packet_is_refused_at_attach(tmp_path):
    async def main():
        a = await create(tmp_path / "a")
        try:
            with pytest.raises(lichen.LinkError.MtuTooSmall) as e:
                a.links().attach_native_link("phone-x", 122, Silent())
            assert "122" in str(e.value) and "123" in str(e.value)
            assert await a.links().list() == []
            link = a.links().attach_native_link("phone-y", 123, Silent())
            assert link.is_up()
        finally:
            await a.shutdown()
    run(main())


class Broken(lichen.FrameSender):
    def send(self, frame):
        raise RuntimeError("the GATT server crashed")


def test_a_failing_native_sender_ends_only_its_link(tmp_path):
    async def main():
        a = await create(tmp_path / "a")
        try:
            link = a.links().attach_native_link("phone-x", 128, Broken())
            # Each raising send is an error value (a refused frame); three in a row end it.
            await wait_for("the link to end", lambda: not link.is_up(), timeout=30)
            with pytest.raises(lichen.LinkError.LinkDown):
                link.frame_in(bytes(120))
            msg = await a.chats().send_public("still here")
            assert msg.seq == 1
        finally:
            await a.shutdown()
    run(main())


class Hung(lichen.FrameSender):
    """A native send that never returns (a GATT stack that stopped answering)."""

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def send(self, frame):
        self.calls += 1
        self.release.wait(120)
        return lichen.SendOutcome.REFUSED(reason="released")


def test_a_hung_native_send_cannot_stall_the_inbound_direction(tmp_path):
    """While Lichen's send is stuck in native code, frames written to us keep being taken:
    `frame_in` returns (accepted, or LinkDown once Lichen gave the link up), never hangs."""
    async def main():
        a = await create(tmp_path / "a")
        hung = Hung()
        try:
            link = a.links().attach_native_link("phone-h", 128, hung)
            await wait_for("the first send", lambda: hung.calls >= 1, timeout=10)
            slowest = [0.0]
            done = threading.Event()

            def feed():
                end = time.monotonic() + 25
                while time.monotonic() < end:
                    t = time.monotonic()
                    try:
                        link.frame_in(bytes(120))
                    except lichen.LinkError.LinkDown:
                        pass
                    slowest[0] = max(slowest[0], time.monotonic() - t)
                    time.sleep(0.02)
                done.set()
            t = threading.Thread(target=feed, daemon=True)
            t.start()
            deadline = time.monotonic() + 60
            while not done.is_set():
                assert time.monotonic() < deadline, "frame_in hung behind a stuck send"
                await asyncio.sleep(0.1)
            assert slowest[0] < 2.0, slowest[0]
        finally:
            hung.release.set()
            await a.shutdown()
    run(main())
