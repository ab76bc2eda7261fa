#!/usr/bin/env python3
"""Extends python-dbusmock's bluez5 template with tinySSB dongles, for ble_dbusmock.rs.

Run against the mock on the bus named by DBUS_SYSTEM_BUS_ADDRESS:

  bluez_dongle.py adapter hci0            add a powered adapter
  bluez_dongle.py power hci0 on|off       switch it on or off
  bluez_dongle.py dongle hci0 ADDR NAME MTU [noservice]
                                          add a device advertising the tinySSB service, with
                                          its GATT service (RX write, TX read/notify, the given
                                          ATT MTU) unless "noservice"; Connect sets Connected
                                          and ServicesResolved (the template does neither)

A write to RX is answered with a notification on TX carrying the same bytes, so one round
trip shows write-with-response and notifications through BlueZ's D-Bus API.
"""
import sys

import dbus

SERVICE = "6e400001-7646-4b5b-9a50-71becce51558"
RX = "6e400002-7646-4b5b-9a50-71becce51558"
TX = "6e400003-7646-4b5b-9a50-71becce51558"
MOCK = "org.freedesktop.DBus.Mock"
DEVICE = "org.bluez.Device1"
GATT_SERVICE = "org.bluez.GattService1"
GATT_CHAR = "org.bluez.GattCharacteristic1"

bus = dbus.SystemBus()


def obj(path):
    return bus.get_object("org.bluez", path)


def adapter(name):
    obj("/").AddAdapter(name, "lichen-test", dbus_interface="org.bluez.Mock")


def power(name, on):
    obj("/org/bluez/" + name).UpdateProperties(
        "org.bluez.Adapter1", {"Powered": dbus.Boolean(on == "on")}, dbus_interface=MOCK)


def dongle(hci, addr, name, mtu, with_service=True):
    root = obj("/")
    dev = root.AddDevice(hci, addr, name, dbus_interface="org.bluez.Mock")
    d = obj(dev)
    d.UpdateProperties(DEVICE, {
        "UUIDs": dbus.Array([SERVICE], signature="s"),
        "RSSI": dbus.Int16(-52),
    }, dbus_interface=MOCK)
    # BlueZ sets ServicesResolved once GATT discovery is done; btleplug waits for it.
    d.AddMethod(DEVICE, "Connect", "", "",
                "self.connected = True\n"
                "self.UpdateProperties('org.bluez.Device1', {"
                "'Connected': dbus.Boolean(True), 'ServicesResolved': dbus.Boolean(True)})",
                dbus_interface=MOCK)
    d.AddMethod(DEVICE, "Disconnect", "", "",
                "self.connected = False\n"
                "self.UpdateProperties('org.bluez.Device1', {"
                "'Connected': dbus.Boolean(False), 'ServicesResolved': dbus.Boolean(False)})",
                dbus_interface=MOCK)
    if not with_service:
        return
    svc = dev + "/service000a"
    rx = svc + "/char000b"
    tx = svc + "/char000d"
    root.AddObject(svc, GATT_SERVICE, {
        "UUID": dbus.String(SERVICE),
        "Primary": dbus.Boolean(True),
        "Device": dbus.ObjectPath(dev),
        "Includes": dbus.Array([], signature="o"),
    }, [
        # dbusmock lists an interface that has properties but no methods after the child
        # nodes in its introspection XML; bluez-async's parser then fails ("duplicate field
        # `interface`"). BlueZ itself lists interfaces first. A method puts it in place.
        ("MockOrdering", "", "", ""),
    ], dbus_interface=MOCK)
    common = {"Service": dbus.ObjectPath(svc), "MTU": dbus.UInt16(int(mtu)),
              "Value": dbus.Array([], signature="y"), "Notifying": dbus.Boolean(False)}
    root.AddObject(rx, GATT_CHAR, dict(common, **{
        "UUID": dbus.String(RX),
        "Flags": dbus.Array(["write"], signature="s"),
    }), [
        ("WriteValue", "aya{sv}", "",
         f"objects['{tx}'].UpdateProperties('{GATT_CHAR}', "
         "{'Value': dbus.Array([dbus.Byte(b) for b in args[0]], signature='y')})"),
        ("ReadValue", "a{sv}", "ay", "ret = dbus.Array([], signature='y')"),
    ], dbus_interface=MOCK)
    root.AddObject(tx, GATT_CHAR, dict(common, **{
        "UUID": dbus.String(TX),
        "Flags": dbus.Array(["read", "notify"], signature="s"),
    }), [
        ("StartNotify", "", "",
         f"self.UpdateProperties('{GATT_CHAR}', {{'Notifying': dbus.Boolean(True)}})"),
        ("StopNotify", "", "",
         f"self.UpdateProperties('{GATT_CHAR}', {{'Notifying': dbus.Boolean(False)}})"),
        ("ReadValue", "a{sv}", "ay", f"ret = self.props['{GATT_CHAR}']['Value']"),
    ], dbus_interface=MOCK)


def main(argv):
    cmd, *rest = argv
    if cmd == "adapter":
        adapter(*rest)
    elif cmd == "power":
        power(*rest)
    elif cmd == "dongle":
        hci, addr, name, mtu, *flags = rest
        dongle(hci, addr, name, mtu, "noservice" not in flags)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
