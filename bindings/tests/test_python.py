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
