"""Contacts, invites, settings, sync progress, backup and logs through the root."""
import asyncio
import threading

import pytest

import lichen_ffi as lichen
from conftest import create, run, wait_for


class Lines(lichen.LogSink):
    def __init__(self):
        self.lock = threading.Lock()
        self.lines = []
        self.raised = False

    def log(self, level, target, message):
        with self.lock:
            self.lines.append((level, target, message))
        if not self.raised:
            self.raised = True
            raise RuntimeError("the log viewer crashed")


def test_contacts_invites_settings_sync_backup_and_logs(tmp_path):
    sink = Lines()
    lichen.set_log_sink(sink, lichen.LogLevel.TRACE)

    async def main():
        a = await create(tmp_path / "a")
        b = await create(tmp_path / "b")
        a_fid, b_fid = a.feed_id(), b.feed_id()
        try:
            # Contacts: alias, trust, resolve by alias, bad references.
            c = await a.contacts().add(b.feed_id(), "Bo", lichen.Trust.TRUSTED)
            assert (c.alias, c.trust, c.name) == ("Bo", lichen.Trust.TRUSTED, "Bo")
            assert await a.contacts().resolve("bo") == b.feed_id()
            c = await a.contacts().set_trust("Bo", lichen.Trust.VERIFIED)
            assert c.trust == lichen.Trust.VERIFIED
            assert [x.name for x in await a.contacts().list()] == ["Bo"]
            with pytest.raises(lichen.ContactError.BadReference):
                await a.contacts().add("not a feed", None, lichen.Trust.TRUSTED)
            with pytest.raises(lichen.ContactError.BadReference):
                await a.contacts().get("nobody")
            # Sending to a contact by alias; the secret text never reaches the log.
            secret = "PRIVATE-PLAINTEXT-7f3a"
            await a.chats().send_to(["Bo"], secret)
            # Settings: saved, bad ones refused without change.
            s = a.settings().get()
            assert s.receipts and s.relays == []
            s.relays = ["ws://relay.example:8080"]
            await a.settings().set(s)
            assert a.settings().get().relays == ["ws://relay.example:8080"]
            bad = a.settings().get()
            bad.relays = ["http://nope"]
            with pytest.raises(lichen.SetupError.Invalid):
                await a.settings().set(bad)
            assert a.settings().get().relays == ["ws://relay.example:8080"]
            await a.settings().set_my_name("Ann")
            assert a.settings().get().display_name == "Ann"
            # Invites: made for the saved relay, previewed, refused as one's own.
            beacon = await a.invites().make(None, None)
            p = await b.invites().preview(beacon)
            assert (p.inviter, p.alias, p.same_network, p.mine) == (a.feed_id(), "Ann", True,
                                                                     False)
            assert p.relay.startswith("ws://relay.example:8080")
            with pytest.raises(lichen.InviteError.OwnInvite):
                await a.invites().accept(beacon)
            with pytest.raises(lichen.InviteError.NotAnInvite):
                await b.invites().preview("lichen1garbage")
            # Sync progress over a real link.
            listener = await b.links().listen_ws("127.0.0.1:0")
            await a.links().dial_ws(listener.url(), 5000)
            prog = await a.sync().progress()
            assert prog.links == 1 and prog.feeds >= 2
            # Backup: the key and aliases come back; posting waits for the feed's recovery.
            text = await a.backup().export()
            key = a.export_key()
        finally:
            await a.shutdown()
            await b.shutdown()
        r = await lichen.LichenBuilder(str(tmp_path / "r")).restore_backup(text)
        try:
            assert r.feed_id() == a_fid
            assert r.key_state() == lichen.KeyState.UNRECOVERED
            assert (await r.contacts().get(b_fid)).alias == "Bo"
            with pytest.raises(lichen.ChatError.SigningHeld):
                await r.chats().send_public("too early")
        finally:
            await r.shutdown()
        with pytest.raises(lichen.SetupError.Invalid):
            await lichen.LichenBuilder(str(tmp_path / "q")).restore_backup("{}")
        return key
    key = run(main())
    with sink.lock:
        text = "\n".join(m for _, _, m in sink.lines)
    assert sink.lines, "the sink heard nothing"
    assert "PRIVATE-PLAINTEXT-7f3a" not in text
    import json
    secret = json.loads(key)["secret"]
    assert secret not in text and secret[:16] not in text
    lichen.clear_log_sink()
