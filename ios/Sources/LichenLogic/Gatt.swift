import Foundation
import Lichen

/// The tinySSB GATT service (the same on dongles and on phones acting as peripherals).
public enum TinySSB {
    public static let service = "6E400001-7646-4B5B-9A50-71BECCE51558"
    /// Written with response by the central.
    public static let rx = "6E400002-7646-4B5B-9A50-71BECCE51558"
    /// Notified to the central.
    public static let tx = "6E400003-7646-4B5B-9A50-71BECCE51558"
    /// The ATT MTU a central asks for; 123 carries one whole 120-byte packet.
    public static let wantedMtu: UInt32 = 128
    public static let leastMtu: UInt32 = 123
}

/// Why a platform GATT operation failed, as the central session needs to tell Lichen.
public enum GattFailure: Error, Equatable {
    case gone(String)
    case serviceMissing(String)
    case permission(String)
    case failed(String)
}

/// One device found by a scan.
public struct SeenDevice: Equatable {
    public var id: String
    public var name: String
    public var rssi: Int16?
    public init(id: String, name: String, rssi: Int16?) {
        self.id = id
        self.name = name
        self.rssi = rssi
    }
}

/// What a platform's Bluetooth central does, small enough to write twice: over
/// CoreBluetooth (App/Bluetooth/CoreBluetoothGatt.swift) and over the dongle emulator's
/// socket (`EmulatorGatt`). Calls come from Lichen's threads and may block.
public protocol GattPort: AnyObject {
    func adapterState() -> AdapterState
    /// Reports devices offering the tinySSB service until `stopScan`.
    func startScan(_ found: @escaping (SeenDevice) -> Void) throws
    func stopScan()
    /// Connects, negotiates the MTU, checks the service and subscribes to TX; returns the
    /// ATT MTU. `notified` gets each TX value, `lost` the link's end (once, not after `close`).
    func open(
        _ id: String, notified: @escaping (Data) -> Void, lost: @escaping (String) -> Void
    ) throws -> UInt32
    /// One write to RX with response; returns once answered.
    func write(_ id: String, _ value: Data) throws
    func close(_ id: String)
}

/// What the dongle screen hears from the central session.
public protocol CentralObserver: AnyObject {
    func opening(_ id: String)
    func opened(_ id: String, mtu: UInt32)
    func openFailed(_ id: String, reason: String)
    func lost(_ id: String, reason: String)
    /// Lichen closed the link itself (after pairing's check, on unpair).
    func closed(_ id: String)
}

/// The bindings' `BleCentral` over a `GattPort`: maps failures to `OpenError`, refuses
/// writes larger than the link carries, serializes writes per device (CoreBluetooth allows
/// one outstanding write with response), and tells an observer about links coming and going.
/// Sendable by hand: its state is under `lock`; the port must accept calls from any thread.
public final class CentralSession: BleCentral, @unchecked Sendable {
    private let port: GattPort
    private let lock = NSLock()
    private var open: [String: (mtu: UInt32, writeLock: NSLock)] = [:]
    public weak var observer: CentralObserver?

    public init(_ port: GattPort) { self.port = port }

    public var openDevices: [String] { lock.locked { Array(open.keys) } }

    public func adapterState() -> AdapterState { port.adapterState() }

    public func startScan(sink: ScanSink) throws {
        do {
            try port.startScan { d in sink.found(deviceId: d.id, name: d.name, rssi: d.rssi) }
        } catch let e as GattFailure {
            throw CallbackError.Failed(reason: "\(e)")
        }
    }

    public func stopScan() { port.stopScan() }

    public func connect(deviceId: String, sink: GattSink) throws -> UInt32 {
        observer?.opening(deviceId)
        let mtu: UInt32
        do {
            mtu = try port.open(
                deviceId, notified: { sink.notified(value: $0) },
                lost: { [weak self] why in
                    self?.dropped(deviceId, why)
                    sink.disconnected(reason: why)
                })
        } catch let e as GattFailure {
            observer?.openFailed(deviceId, reason: "\(e)")
            switch e {
            case .gone(let r): throw OpenError.DeviceGone(reason: r)
            case .serviceMissing(let m): throw OpenError.ServiceMissing(missing: m)
            case .permission(let r): throw OpenError.PermissionMissing(reason: r)
            case .failed(let r): throw OpenError.Failed(reason: r)
            }
        }
        lock.locked { open[deviceId] = (mtu, NSLock()) }
        observer?.opened(deviceId, mtu: mtu)
        return mtu
    }

    private func dropped(_ id: String, _ why: String) {
        let was = lock.locked { open.removeValue(forKey: id) != nil }
        if was { observer?.lost(id, reason: why) }
    }

    public func write(deviceId: String, value: Data) throws {
        guard let link = lock.locked({ open[deviceId] }) else {
            throw CallbackError.Failed(reason: "not connected to \(deviceId)")
        }
        guard value.count <= Int(link.mtu) - 3 else {
            throw CallbackError.Failed(
                reason: "\(value.count) bytes do not fit an MTU of \(link.mtu)")
        }
        link.writeLock.lock()
        defer { link.writeLock.unlock() }
        do {
            try port.write(deviceId, value)
        } catch let e as GattFailure {
            throw CallbackError.Failed(reason: "\(e)")
        }
    }

    public func close(deviceId: String) {
        lock.locked { _ = open.removeValue(forKey: deviceId) }
        port.close(deviceId)
        observer?.closed(deviceId)
    }
}
