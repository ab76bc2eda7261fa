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


def test_inspect_packet():
    claim = bytes.fromhex("613dfa70c47aba63") + bytes(97)
    report = lichen.inspect_packet(claim)
    assert report.kind == "GOset claim" or report.valid is False
    assert lichen.inspect_packet(b"\x01\x02").valid is False
    assert lichen.lichen_version()
