"""A foreign BLE central written in Python, backed by the dongle emulator's socket (GATT
over TCP: the operations a phone's Bluetooth stack performs), drives Lichen's pairing and
its reconnecting supervisor; a message crosses the emulated LoRa channel to a second node."""
import asyncio
import queue
import socket
import struct
import threading

import pytest

import lichen_ffi as lichen
from conftest import TimelineRecorder, run, wait_for

SERVICE = 0x6E400001_7646_4B5B_9A50_71BECCE51558
RX = 0x6E400002_7646_4B5B_9A50_71BECCE51558
TX = 0x6E400003_7646_4B5B_9A50_71BECCE51558
PROP_WRITE, PROP_NOTIFY = 0x08, 0x10
(T_SCAN, T_ADVERT, T_MTU_REQ, T_MTU_RSP, T_DISCOVER, T_SERVICES, T_SUBSCRIBE, T_WRITE,
 T_WRITE_RSP, T_NOTIFY, T_BUSY) = range(1, 12)


def u128(b):
    return int.from_bytes(b, "big")


def send_msg(sock, ty, body=b""):
    sock.sendall(struct.pack(">HB", len(body) + 1, ty) + body)


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        got = sock.recv(n - len(buf))
        if not got:
            raise EOFError("closed")
        buf += got
    return buf


def read_msg(sock):
    (n,) = struct.unpack(">H", read_exact(sock, 2))
    frame = read_exact(sock, n)
    return frame[0], frame[1:]


def parse_advert(body):
    rssi = struct.unpack("b", body[:1])[0]
    n = body[1]
    name = body[2:2 + n].decode()
    count = body[2 + n]
    services = [u128(body[3 + n + 16 * i: 3 + n + 16 * (i + 1)]) for i in range(count)]
    return name, rssi, services


def parse_services(body):
    out, i = {}, 1
    for _ in range(body[0]):
        uuid = u128(body[i:i + 16])
        n = body[i + 16]
        i += 17
        chars = {}
        for _ in range(n):
            chars[u128(body[i:i + 16])] = body[i + 16]
            i += 17
        out[uuid] = chars
    return out


class Device:
    def __init__(self, sock, sink):
        self.sock = sock
        self.sink = sink
        self.answers = queue.Queue()
        self.reader = threading.Thread(target=self.read, daemon=True)

    def read(self):
        why = "the dongle closed the connection"
        try:
            while True:
                ty, body = read_msg(self.sock)
                if ty == T_NOTIFY and u128(body[:16]) == TX:
                    self.sink.notified(body[16:])
                elif ty == T_WRITE_RSP:
                    self.answers.put(body[0])
        except (OSError, EOFError) as e:
            why = f"link lost: {e}"
        self.answers.put(None)
        self.sink.disconnected(why)


class SocketCentral(lichen.BleCentral):
    """What an Android or iOS app implements with BluetoothGatt / CBCentralManager, here
    over the emulator's socket."""

    def __init__(self, addrs):
        self.addrs = addrs
        self.devices = {}
        self.opens = 0
        self.lost = 0
        self.powered = True

    def adapter_state(self):
        return lichen.AdapterState.POWERED_ON if self.powered else lichen.AdapterState.POWERED_OFF

    def start_scan(self, sink):
        def scan():
            for a in self.addrs:
                try:
                    host, port = a.rsplit(":", 1)
                    with socket.create_connection((host, int(port)), timeout=1) as s:
                        send_msg(s, T_SCAN)
                        ty, body = read_msg(s)
                        if ty == T_ADVERT:
                            name, rssi, services = parse_advert(body)
                            if SERVICE in services:
                                sink.found(a, name, rssi)
                except (OSError, EOFError):
                    pass
        threading.Thread(target=scan, daemon=True).start()

    def stop_scan(self):
        pass

    def connect(self, device_id, sink):
        try:
            host, port = device_id.rsplit(":", 1)
            s = socket.create_connection((host, int(port)), timeout=3)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def ask(ty, body=b""):
                send_msg(s, ty, body)
                got, rest = read_msg(s)
                if got == T_BUSY:
                    raise lichen.OpenError.DeviceGone(reason="busy")
                return got, rest
            ty, body = ask(T_MTU_REQ, struct.pack(">H", 128))
            mtu = min(struct.unpack(">H", body)[0], 128)
            ty, body = ask(T_DISCOVER)
            chars = parse_services(body).get(SERVICE)
            if chars is None:
                raise lichen.OpenError.ServiceMissing(missing="tinySSB service")
            if not chars.get(RX, 0) & PROP_WRITE or not chars.get(TX, 0) & PROP_NOTIFY:
                raise lichen.OpenError.ServiceMissing(missing="RX/TX characteristics")
            ty, body = ask(T_SUBSCRIBE, TX.to_bytes(16, "big"))
            if ty != T_WRITE_RSP or body[0] != 0:
                raise lichen.OpenError.Failed(reason="subscription refused")
            s.settimeout(None)
        except (OSError, EOFError) as e:
            raise lichen.OpenError.DeviceGone(reason=str(e))
        d = Device(s, sink)
        self.devices[device_id] = d
        d.reader.start()
        self.opens += 1
        return mtu

    def write(self, device_id, value):
        d = self.devices.get(device_id)
        if d is None:
            raise lichen.CallbackError.Failed(reason="not connected")
        send_msg(d.sock, T_WRITE, RX.to_bytes(16, "big") + value)
        code = d.answers.get(timeout=5)
        if code is None:
            raise lichen.CallbackError.Failed(reason="link lost")
        if code != 0:
            raise lichen.CallbackError.Failed(reason=f"ATT error {code:#04x}")

    def close(self, device_id):
        d = self.devices.pop(device_id, None)
        if d is not None:
            try:
                d.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            d.sock.close()


def test_a_python_central_pairs_reconnects_and_reaches_a_second_node_over_lora(tmp_path):
    air = lichen.EmulatedAir(11, 0.0)
    da = lichen.DongleEmulator.on_air(air, 0xA1A1)
    db = lichen.DongleEmulator.on_air(air, 0xB2B2)

    async def main():
        central = SocketCentral([da.addr()])
        ba = lichen.LichenBuilder(str(tmp_path / "a"))
        ba.ble_central(central)
        a = await ba.create()
        bb = lichen.LichenBuilder(str(tmp_path / "b"))
        bb.dongle_emulator(db.addr())
        b = await bb.create()
        try:
            found = await a.dongle().scan(800)
            assert [(f.id, f.name) for f in found] == [(da.addr(), da.name())]
            paired = await a.dongle().pair(da.name())
            assert paired.name == da.name()
            await b.dongle().pair(db.name())
            pub_b = b.chats().public_channel()
            tl = TimelineRecorder()
            h = pub_b.subscribe(tl, 50)
            texts = lambda: [m.text for m in tl.snapshot()]
            await a.chats().send_public("hello over LoRa")
            await wait_for("A's post at B", lambda: "hello over LoRa" in texts(), timeout=120)
            st = await a.dongle().status()
            assert st.link is not None and st.link.mtu == 128
            # The emulator drops the phone (out of range): the supervisor reconnects on its
            # own once it is back, and what was written meanwhile arrives.
            opens = central.opens
            da.set_ble(False)
            await a.chats().send_public("written while cut off")
            await asyncio.sleep(2)
            assert "written while cut off" not in texts()
            da.set_ble(True)
            await wait_for("reconnected", lambda: central.opens > opens, timeout=60)
            await wait_for("the catch-up at B", lambda: "written while cut off" in texts(),
                           timeout=180)
            del h
        finally:
            await a.shutdown()
            await b.shutdown()
    try:
        run(main())
    finally:
        da.shutdown()
        db.shutdown()


class Refusing(lichen.BleCentral):
    """A central whose adapter is off, then whose open raises something unexpected."""

    def __init__(self):
        self.state = lichen.AdapterState.POWERED_OFF
        self.crash = True

    def adapter_state(self):
        return self.state

    def start_scan(self, sink):
        if self.crash:
            raise RuntimeError("the platform scanner crashed")
        sink.found("127.0.0.1:1", "tinySSB-dead", -50)

    def stop_scan(self):
        pass

    def connect(self, device_id, sink):
        raise ValueError("something unexpected")

    def write(self, device_id, value):
        raise RuntimeError("never")

    def close(self, device_id):
        pass


def test_a_failing_central_gives_errors_not_panics(tmp_path):
    async def main():
        c = Refusing()
        bld = lichen.LichenBuilder(str(tmp_path / "a"))
        bld.ble_central(c)
        a = await bld.create()
        try:
            with pytest.raises(lichen.DongleError.BluetoothOff):
                await a.dongle().scan(100)
            c.state = lichen.AdapterState.POWERED_ON
            with pytest.raises(lichen.DongleError.Other) as e:
                await a.dongle().scan(100)
            assert "scanner crashed" in str(e.value)
            c.crash = False
            with pytest.raises(lichen.DongleError.Other) as e:
                await a.dongle().pair("127.0.0.1:1")
            assert "something unexpected" in str(e.value)
        finally:
            await a.shutdown()
    run(main())
