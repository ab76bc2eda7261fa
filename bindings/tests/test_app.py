"""The root object through the Python binding: two roots in temp dirs, linked over
WebSocket loopback on real sockets, real sled stores."""
import asyncio
import socket
import threading
import time

import pytest

import lichen_ffi as lichen
from conftest import ListRecorder, TimelineRecorder, create, run, wait_for

S = lichen.DeliveryState


def test_a_private_message_goes_from_written_to_read(tmp_path):
    async def main(tmp):
        a = await create(tmp / "a")
        b = await create(tmp / "b")
        try:
            b_id, a_id = b.feed_id(), a.feed_id()
            # A's conversation with B, watched before anything is written.
            conv_a = await a.chats().with_people([b_id])
            tl_a = TimelineRecorder()
            h_tl_a = conv_a.subscribe(tl_a, 50)
            await wait_for("a's first reset", lambda: tl_a.resets == 1)
            assert tl_a.snapshot() == []
            lst_b = ListRecorder()
            h_lst_b = b.chats().subscribe(lst_b)
            await wait_for("b's first reset", lambda: lst_b.resets == 1)
            assert {c.kind for c in lst_b.snapshot()} == {
                lichen.ChatKind.PUBLIC, lichen.ChatKind.NOTES}
            # Written while no link is up: it stays "written".
            sent = await conv_a.send("hello B, only for you")
            assert sent.state == S.WRITTEN and sent.mine and sent.chat_id == conv_a.id()
            await wait_for("a's append", lambda: len(tl_a.snapshot()) == 1)
            assert tl_a.diffs[1].is_APPEND()
            assert tl_a.snapshot()[0].state == S.WRITTEN
            # Link them over loopback.
            listener = await b.links().listen_ws("127.0.0.1:0")
            link = await a.links().dial_ws(listener.url(), 5000)
            assert link.kind() == "ws"
            # B's chat list shows the chat with unread 1 and the text as preview.
            def b_chat():
                for c in lst_b.snapshot():
                    if c.kind == lichen.ChatKind.ONE_TO_ONE:
                        return c
            chat = await wait_for("the chat at b", lambda: b_chat() and b_chat().unread == 1
                                  and b_chat())
            assert chat.preview == "hello B, only for you"
            assert sorted(chat.members) == sorted([a_id, b_id])
            assert chat.id == conv_a.id()
            # B's timeline gets it.
            conv_b = b.chats().conversation(chat.id)
            tl_b = TimelineRecorder()
            h_tl_b = conv_b.subscribe(tl_b, 50)
            got = await wait_for("b's timeline", lambda: tl_b.snapshot())
            assert [(m.text, m.mine, m.author) for m in got] == [
                ("hello B, only for you", False, a_id)]
            # Delivered (B's device confirms) before read.
            await wait_for("delivered", lambda: tl_a.snapshot()[0].state == S.DELIVERED)
            await conv_b.mark_read()
            await wait_for("b's unread to drop", lambda: b_chat().unread == 0)
            await wait_for("read", lambda: tl_a.snapshot()[0].state == S.READ)
            # A saw each state as a Set of the one item, in order.
            sets = [d for d in tl_a.diffs if d.is_SET()]
            assert [(d.index, d.value.state) for d in sets] == [
                (0, S.SENT), (0, S.STORED), (0, S.DELIVERED), (0, S.READ)]
            assert all(d.value.id == sent.id for d in sets)
            # The list is plain records, readable without a listener too.
            listed = await b.chats().list()
            assert [c.unread for c in listed if c.id == chat.id] == [0]
            del h_tl_a, h_tl_b, h_lst_b
        finally:
            await a.shutdown()
            await b.shutdown()
    run(main(tmp_path))


def test_bad_references_raise_their_variant(tmp_path):
    async def main(tmp):
        a = await create(tmp / "a")
        try:
            chats = a.chats()
            with pytest.raises(lichen.ChatError.BadReference) as e:
                chats.conversation("not a chat")
            assert "not a chat id" in str(e.value)
            with pytest.raises(lichen.ChatError.BadReference):
                await chats.message("%%%")
            with pytest.raises(lichen.ChatError.BadReference):
                await chats.public_channel().page("zz", 10)
            with pytest.raises(lichen.ChatError.UnknownContact) as e:
                await chats.send_to(["nobody-by-that-name"], "hi")
            assert "nobody-by-that-name" in str(e.value)
            with pytest.raises(lichen.ChatError.Invalid):
                await chats.send_public("")
            with pytest.raises(lichen.LinkError.BadAddress):
                await a.links().dial_ws("http://example.invalid", 100)
            with pytest.raises(lichen.LinkError.BadAddress):
                await a.links().listen_ws("not an address")
        finally:
            await a.shutdown()
        # A stopped root says so in every area; opening twice is refused.
        with pytest.raises(lichen.ChatError.Stopped):
            await a.chats().list()
        with pytest.raises(lichen.SetupError.Exists):
            await lichen.LichenBuilder(str(tmp / "a")).create()
        with pytest.raises(lichen.SetupError.NoData):
            await lichen.LichenBuilder(str(tmp / "nothing")).open()
        with pytest.raises(lichen.SetupError.BadKey):
            await lichen.LichenBuilder(str(tmp / "c")).import_key("{}", lichen.KeyIs.NEW)
    run(main(tmp_path))


def test_a_slow_dial_returns_control_at_once_and_times_out(tmp_path):
    """A peer that accepts TCP and never answers the WebSocket handshake: the dial is async,
    the event loop keeps ticking every 10 ms meanwhile, and the dial ends with Timeout."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()

    async def main(tmp):
        a = await create(tmp / "a")
        try:
            gaps = []

            async def ticker(done):
                last = time.monotonic()
                while not done.is_set():
                    await asyncio.sleep(0.01)
                    now = time.monotonic()
                    gaps.append(now - last)
                    last = now
            done = asyncio.Event()
            tick = asyncio.create_task(ticker(done))
            url = f"ws://127.0.0.1:{srv.getsockname()[1]}"
            started = time.monotonic()
            with pytest.raises(lichen.LinkError.Timeout) as e:
                await a.links().dial_ws(url, 1500)
            took = time.monotonic() - started
            done.set()
            await tick
            assert "did not answer within 1500 ms" in str(e.value)
            assert 1.4 < took < 10, took
            assert len(gaps) > 50 and max(gaps) < 0.05, max(gaps)
        finally:
            await a.shutdown()
    try:
        run(main(tmp_path))
    finally:
        stop.set()
        t.join()
        srv.close()


class Raising(lichen.TimelineListener):
    """Raises on its first call, then records."""

    def __init__(self):
        self.calls = 0
        self.got = []

    def on_update(self, diffs):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the UI crashed")
        self.got.extend(diffs)


def test_a_listener_that_raises_does_not_stop_the_stream(tmp_path):
    async def main(tmp):
        a = await create(tmp / "a")
        try:
            pub = a.chats().public_channel()
            r = Raising()
            h = pub.subscribe(r, 10)
            await wait_for("the first call", lambda: r.calls == 1)
            await pub.send("after the crash")
            await wait_for("the append", lambda: r.got)
            assert r.got[0].is_APPEND() and r.got[0].values[0].text == "after the crash"
            assert not h.is_finished()
            h.cancel()
            await wait_for("the handle to stop", h.is_finished)
            await pub.send("not heard")
            await asyncio.sleep(0.3)
            assert len(r.got) == 1
        finally:
            await a.shutdown()
    run(main(tmp_path))


def test_paging_back_pushes_older_messages_to_the_front(tmp_path):
    async def main(tmp):
        a = await create(tmp / "a")
        try:
            pub = a.chats().public_channel()
            for i in range(7):
                await pub.send(f"post {i}")
            tl = TimelineRecorder()
            h = pub.subscribe(tl, 3)
            await wait_for("reset", lambda: tl.resets == 1)
            assert [m.text for m in tl.snapshot()] == ["post 4", "post 5", "post 6"]
            assert await pub.page_back(3)
            assert not await pub.page_back(3)
            assert not await pub.page_back(3)
            assert [m.text for m in tl.snapshot()] == [f"post {i}" for i in range(7)]
            assert [type(d).__name__.rsplit(".", 1)[-1] for d in tl.diffs] == [
                "RESET", "PUSH_FRONT", "PUSH_FRONT"]
            page = await pub.page(None, 2)
            assert [m.text for m in page.messages] == ["post 5", "post 6"]
            older = await pub.page(page.older, 10)
            assert older.older is None and len(older.messages) == 5
            found = await a.chats().search("post 3", 5)
            assert [m.text for m in found] == ["post 3"]
            del h
        finally:
            await a.shutdown()
    run(main(tmp_path))


def test_the_event_queue_keeps_events_until_handled(tmp_path):
    async def main(tmp):
        a = await create(tmp / "a")
        b = await create(tmp / "b")
        try:
            listener = await b.links().listen_ws("127.0.0.1:0")
            await a.links().dial_ws(listener.url(), 5000)
            await a.chats().send_to([b.feed_id()], "wake up")
            ev = await asyncio.wait_for(b.next_event(), 30)
            assert ev.is_MESSAGE_RECEIVED()
            again = await asyncio.wait_for(b.next_event(), 5)
            assert again == ev
            msg = await b.chats().message(ev.message_id)
            assert msg.text == "wake up" and msg.chat_id == ev.chat_id
        finally:
            await a.shutdown()
            await b.shutdown()
        # Unhandled, it is there after a restart; handled, it is gone.
        b = await lichen.LichenBuilder(str(tmp / "b")).open()
        try:
            assert b.peek_event() == ev
            assert b.event_handled()
            assert b.peek_event() is None
        finally:
            await b.shutdown()
    run(main(tmp_path))
