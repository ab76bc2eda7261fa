// NOT BUILT HERE (CoreBluetooth does not exist on Linux): written to Apple's conventions,
// to be built in Xcode (ios/README.md). Everything it decides is in LichenLogic's
// CentralSession, which `swift test` runs against the dongle emulator.
import CoreBluetooth
import Foundation
import Lichen
import LichenLogic

/// `GattPort` over CBCentralManager. Lichen calls it on its own threads and expects
/// blocking calls; CoreBluetooth answers on `queue`, so each call waits on a semaphore
/// for its delegate callback. The manager has a restore identifier: iOS relaunches the app
/// in the background for a paired dongle's events and hands the peripherals back.
final class CoreBluetoothGatt: NSObject, GattPort, CBCentralManagerDelegate, CBPeripheralDelegate {
    static let restoreId = "org.lichen.central"
    private let service = CBUUID(string: TinySSB.service)
    private let rxId = CBUUID(string: TinySSB.rx)
    private let txId = CBUUID(string: TinySSB.tx)
    private let queue = DispatchQueue(label: "org.lichen.central")
    private var manager: CBCentralManager!
    private var found: ((SeenDevice) -> Void)?

    private final class Link {
        let peripheral: CBPeripheral
        var rx: CBCharacteristic?
        var tx: CBCharacteristic?
        var notified: ((Data) -> Void)?
        var lost: ((String) -> Void)?
        var step = DispatchSemaphore(value: 0)
        var error: GattFailure?
        var writeDone = DispatchSemaphore(value: 0)
        var writeError: Error?
        var closing = false
        init(_ p: CBPeripheral) { peripheral = p }
    }
    private var links: [UUID: Link] = [:]
    private var seen: [UUID: CBPeripheral] = [:]

    override init() {
        super.init()
        manager = CBCentralManager(
            delegate: self, queue: queue,
            options: [CBCentralManagerOptionRestoreIdentifierKey: Self.restoreId])
    }

    func adapterState() -> AdapterState {
        switch manager.state {
        case .poweredOn: return .poweredOn
        case .unauthorized: return .unauthorized
        case .unsupported: return .unsupported
        default: return .poweredOff
        }
    }

    func startScan(_ found: @escaping (SeenDevice) -> Void) throws {
        queue.sync {
            self.found = found
            // With the service UUID: iOS scans in the background only for named services.
            manager.scanForPeripherals(withServices: [service], options: nil)
        }
    }

    func stopScan() {
        queue.sync {
            manager.stopScan()
            found = nil
        }
    }

    func centralManager(
        _ central: CBCentralManager, didDiscover peripheral: CBPeripheral,
        advertisementData: [String: Any], rssi RSSI: NSNumber
    ) {
        seen[peripheral.identifier] = peripheral
        let name = advertisementData[CBAdvertisementDataLocalNameKey] as? String ?? peripheral.name ?? "tinySSB"
        found?(SeenDevice(id: peripheral.identifier.uuidString, name: name, rssi: Int16(truncating: RSSI)))
    }

    func open(
        _ id: String, notified: @escaping (Data) -> Void, lost: @escaping (String) -> Void
    ) throws -> UInt32 {
        guard let uuid = UUID(uuidString: id) else { throw GattFailure.gone("not a device id: \(id)") }
        let link: Link = try queue.sync {
            let p = seen[uuid] ?? manager.retrievePeripherals(withIdentifiers: [uuid]).first
            guard let p else { throw GattFailure.gone("the dongle is not in range") }
            let l = Link(p)
            l.notified = notified
            l.lost = lost
            links[uuid] = l
            p.delegate = self
            manager.connect(p, options: nil)
            return l
        }
        // connect → discover services → discover characteristics → subscribe, one step each.
        if link.step.wait(timeout: .now() + 10) == .timedOut {
            close(id)
            throw GattFailure.gone("the dongle did not answer within 10 s")
        }
        if let e = link.error {
            close(id)
            throw e
        }
        // ATT MTU = the longest write with response + 3.
        return UInt32(link.peripheral.maximumWriteValueLength(for: .withResponse) + 3)
    }

    func centralManager(_ central: CBCentralManager, didConnect peripheral: CBPeripheral) {
        peripheral.discoverServices([service])
    }

    func centralManager(
        _ central: CBCentralManager, didFailToConnect peripheral: CBPeripheral, error: Error?
    ) {
        finish(peripheral, .gone(error?.localizedDescription ?? "connection failed"))
    }

    func centralManager(
        _ central: CBCentralManager, didDisconnectPeripheral peripheral: CBPeripheral, error: Error?
    ) {
        guard let l = links.removeValue(forKey: peripheral.identifier) else { return }
        l.writeError = GattFailure.gone("link lost")
        l.writeDone.signal()
        if !l.closing { l.lost?(error?.localizedDescription ?? "disconnected") }
    }

    func peripheral(_ peripheral: CBPeripheral, didDiscoverServices error: Error?) {
        guard let s = peripheral.services?.first(where: { $0.uuid == service }) else {
            return finish(peripheral, .serviceMissing("tinySSB service"))
        }
        peripheral.discoverCharacteristics([rxId, txId], for: s)
    }

    func peripheral(
        _ peripheral: CBPeripheral, didDiscoverCharacteristicsFor service: CBService, error: Error?
    ) {
        guard let l = links[peripheral.identifier] else { return }
        l.rx = service.characteristics?.first { $0.uuid == rxId && $0.properties.contains(.write) }
        l.tx = service.characteristics?.first { $0.uuid == txId && $0.properties.contains(.notify) }
        guard let tx = l.tx, l.rx != nil else {
            return finish(peripheral, .serviceMissing("RX/TX characteristics"))
        }
        peripheral.setNotifyValue(true, for: tx)
    }

    func peripheral(
        _ peripheral: CBPeripheral, didUpdateNotificationStateFor characteristic: CBCharacteristic,
        error: Error?
    ) {
        finish(peripheral, error.map { .failed("subscription refused: \($0.localizedDescription)") })
    }

    private func finish(_ p: CBPeripheral, _ e: GattFailure?) {
        guard let l = links[p.identifier] else { return }
        l.error = e
        l.step.signal()
    }

    func peripheral(
        _ peripheral: CBPeripheral, didUpdateValueFor characteristic: CBCharacteristic, error: Error?
    ) {
        guard characteristic.uuid == txId, let v = characteristic.value else { return }
        links[peripheral.identifier]?.notified?(v)
    }

    /// One write with response at a time (CentralSession serializes per device).
    func write(_ id: String, _ value: Data) throws {
        guard let uuid = UUID(uuidString: id),
            let l = queue.sync(execute: { links[uuid] }), let rx = l.rx
        else { throw GattFailure.gone("not connected") }
        l.writeError = nil
        queue.async { l.peripheral.writeValue(value, for: rx, type: .withResponse) }
        if l.writeDone.wait(timeout: .now() + 5) == .timedOut {
            throw GattFailure.failed("no write response in 5 s")
        }
        if let e = l.writeError { throw GattFailure.failed(e.localizedDescription) }
    }

    func peripheral(
        _ peripheral: CBPeripheral, didWriteValueFor characteristic: CBCharacteristic, error: Error?
    ) {
        guard let l = links[peripheral.identifier] else { return }
        l.writeError = error
        l.writeDone.signal()
    }

    func close(_ id: String) {
        guard let uuid = UUID(uuidString: id) else { return }
        queue.sync {
            guard let l = links[uuid] else { return }
            l.closing = true
            manager.cancelPeripheralConnection(l.peripheral)
        }
    }

    func centralManagerDidUpdateState(_ central: CBCentralManager) {
        if central.state != .poweredOn {
            for l in links.values where !l.closing { l.lost?("Bluetooth is off") }
            links.removeAll()
        }
    }

    /// State restoration: the peripherals iOS kept connected while the app was not running.
    /// Lichen's supervisor opens the paired one again by id; remembering them lets `open`
    /// find it without a scan.
    func centralManager(_ central: CBCentralManager, willRestoreState dict: [String: Any]) {
        let ps = dict[CBCentralManagerRestoredStatePeripheralsKey] as? [CBPeripheral] ?? []
        for p in ps { seen[p.identifier] = p }
    }
}
