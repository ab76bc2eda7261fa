"""The generated Python bindings, loaded from the library that ships."""
import pytest

import lichen_ffi as lichen


def test_feed_id_forms():
    forms = lichen.feed_id_forms("did:ssb:ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=")
    assert forms.hex == "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    assert forms.ssb_ref == "@A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=.ed25519"
    assert forms.short == "AOQQP-P7TZY"


def test_errors_cross_as_exceptions():
    with pytest.raises(lichen.LichenError.InvalidInput) as e:
        lichen.feed_id_forms("not a feed")
    assert "not a feed id" in str(e.value)


GOSET_DMX = bytes.fromhex("613dfa70c47aba")  # the deployed network's GOset DMX


def test_inspect_packet():
    # A well-formed one-key claim: lo = hi = xor = the key, cnt 1.
    key = bytes([0x11]) * 32
    claim = GOSET_DMX + b"c" + key + key + key + b"\x01"
    report = lichen.inspect_packet(claim)
    assert (report.kind, report.valid, report.problem) == ("GOset claim", True, None)
    # The same claim with a count of 0, padded to 120 bytes, and with a wrong XOR: each
    # invalid, each for its own reason.
    cases = [
        (claim[:-1] + b"\x00", "claim with cnt 0"),
        (claim + bytes(15), "GOset claim must be 105 bytes, got 120"),
        (GOSET_DMX + b"c" + key + bytes([0x22]) * 32 + key + b"\x02",
         "claim XOR does not match its own 2-key range"),
    ]
    for pkt, problem in cases:
        report = lichen.inspect_packet(pkt)
        assert (report.kind, report.valid, report.problem) == ("GOset packet", False, problem)
    short = lichen.inspect_packet(b"\x01\x02")
    assert (short.kind, short.valid) == ("unknown", False)
    assert "7-byte DMX" in short.problem
    assert lichen.lichen_version()


# --- the node, dongles and native links (real nodes, sled stores in temp dirs, loopback) ---

import json
import threading
import time


def wait_for(what, check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_nodes_replicate_over_websocket(tmp_path):
    a = lichen.LichenNode.open(str(tmp_path / "a"))
    b = lichen.LichenNode.open(str(tmp_path / "b"))
    fid = a.feed_id()
    try:
        # The CLI's layout: the key file and the sled store side by side.
        assert json.loads((tmp_path / "a" / "identity.json").read_text())
        assert (tmp_path / "a" / "store").is_dir()
        assert lichen.feed_id_forms(fid).hex == fid
        assert a.publish_text("hello over ws") == 1
        assert a.read_text(fid, 1) == "hello over ws"
        assert b.read_text(fid, 1) is None
        url = a.listen_ws("127.0.0.1:0")
        assert url.startswith("ws://127.0.0.1:")
        b.connect_ws(url)
        wait_for("the post at b", lambda: b.read_text(fid, 1) == "hello over ws")
        snap = b.snapshot()
        assert [link.kind for link in snap.links] == ["ws"]
        held = {f.feed_id: f.held for f in snap.feeds}
        assert held[fid] == 1 and held[b.feed_id()] == 0
        assert snap.goset_len == 2
        with pytest.raises(lichen.LichenError.Node) as e:
            b.connect_ws("ws://127.0.0.1:1")
        assert "127.0.0.1:1" in str(e.value)
        with pytest.raises(lichen.LichenError.InvalidInput):
            b.read_text("not a feed", 1)
    finally:
        a.shutdown()
        b.shutdown()
    # The data directory keeps the identity and the store; a stopped node says so.
    again = lichen.LichenNode.open(str(tmp_path / "a"))
    assert again.feed_id() == fid
    assert again.read_text(fid, 1) == "hello over ws"
    again.shutdown()
    again.shutdown()
    with pytest.raises(lichen.LichenError.Shutdown):
        again.snapshot()


def test_dongle_scan_pair_status_unpair_against_the_emulator(tmp_path):
    emu = lichen.DongleEmulator.start(7)
    try:
        assert emu.name() == "tinySSB-0007"
        dongles = lichen.Dongles.emulator(str(tmp_path), emu.addr())
        with pytest.raises(lichen.DongleError.NotPaired):
            dongles.status()
        found = dongles.scan(500)
        assert [(f.id, f.name, f.paired, f.paired_before) for f in found] == [
            (emu.addr(), emu.name(), False, False)
        ]
        assert found[0].rssi == -60
        paired = dongles.pair(emu.name())
        assert (paired.id, paired.name, paired.transport) == (emu.addr(), emu.name(), "emulator")
        # Remembered where `lichen dongle status` looks for it.
        record = json.loads((tmp_path / "dongle.json").read_text())
        assert record["paired"]["id"] == emu.addr()
        status = dongles.status()
        assert status.paired == paired and status.link is None
        assert dongles.scan(500)[0].paired
        assert dongles.unpair() == paired
        with pytest.raises(lichen.DongleError.NotPaired) as e:
            dongles.unpair()
        assert "No dongle is paired" in str(e.value)
        again = dongles.scan(500)[0]
        assert again.paired_before and not again.paired
    finally:
        emu.shutdown()


def test_dongle_errors_keep_their_kind_and_message(tmp_path):
    emu = lichen.DongleEmulator.start(8)
    try:
        dongles = lichen.Dongles.emulator(str(tmp_path), emu.addr())
        with pytest.raises(lichen.DongleError.DeviceGone) as e:
            dongles.pair("tinySSB-ffff")
        assert "tinySSB-ffff cannot be reached" in str(e.value)
        assert not (tmp_path / "dongle.json").exists()
    finally:
        emu.shutdown()
    # Once the emulator is gone, nothing is found and pairing it fails the same way.
    assert dongles.scan(200) == []
    with pytest.raises(lichen.DongleError.DeviceGone):
        dongles.pair(emu.addr())
    # This build has no btleplug (the `ble` feature is off by default).
    with pytest.raises(lichen.DongleError.Unsupported) as e:
        lichen.Dongles.bluetooth(str(tmp_path))
    assert "no Bluetooth support" in str(e.value)


class Relay:
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
        except lichen.LichenError.LinkDown as e:
            return lichen.SendOutcome.REFUSED(reason=str(e))
        self.sent += 1
        return lichen.SendOutcome.SENT()


def test_two_nodes_replicate_over_a_native_link(tmp_path):
    a = lichen.LichenNode.open(str(tmp_path / "a"))
    b = lichen.LichenNode.open(str(tmp_path / "b"))
    try:
        fid = a.feed_id()
        long_text = "a post long enough for a side chain " * 4
        a.publish_text("hello over BLE")
        a.publish_text(long_text)
        to_b, to_a = Relay(), Relay()
        link_a = a.attach_native_link("phone-b", 128, to_b)
        link_b = b.attach_native_link("phone-a", 128, to_a)
        to_b.peer, to_a.peer = link_b, link_a
        to_b.ready.set()
        to_a.ready.set()
        wait_for("both posts at b", lambda: b.read_text(fid, 2) == long_text)
        assert b.read_text(fid, 1) == "hello over BLE"
        assert to_b.sent > 0 and to_a.sent > 0
        assert [(l.kind, l.peer) for l in a.snapshot().links] == [("ble", "phone-b (phone-b)")]
        # The platform reports the link down: the node drops the face, frames are refused.
        link_a.link_down("phone walked away")
        assert not link_a.is_up()
        wait_for("a's face to go", lambda: a.snapshot().links == [])
        with pytest.raises(lichen.LichenError.LinkDown) as e:
            link_a.frame_in(bytes(120))
        assert "phone walked away" in str(e.value)
        assert link_b.is_up()
        # A node that stops ends its links too.
        b.shutdown()
        wait_for("b's link to end", lambda: not link_b.is_up(), timeout=5)
    finally:
        a.shutdown()
        b.shutdown()


class Broken:
    def send(self, frame):
        raise RuntimeError("the GATT server crashed")


def test_a_failing_native_sender_ends_only_its_link(tmp_path):
    node = lichen.LichenNode.open(str(tmp_path))
    try:
        link = node.attach_native_link("phone-x", 128, Broken())
        # Each raising send counts as a refused frame; three in a row end the link.
        wait_for("the link to end", lambda: not link.is_up(), timeout=10)
        wait_for("the face to go", lambda: node.snapshot().links == [], timeout=5)
        with pytest.raises(lichen.LichenError.LinkDown):
            link.frame_in(bytes(120))
        assert node.publish_text("still here") == 1
    finally:
        node.shutdown()
