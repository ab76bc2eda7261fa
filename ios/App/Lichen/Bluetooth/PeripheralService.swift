// NOT BUILT HERE (CoreBluetooth does not exist on Linux): written to Apple's conventions.
// The decisions (attach, frame in, refusals, link down) are LichenLogic's PeripheralSession,
// which `swift test` runs against the real library.
import CoreBluetooth
import Foundation
import Lichen
import LichenLogic

/// The phone as a tinySSB peripheral for other phones: the service with RX (written with
/// response) and TX (notified), advertised by service UUID. One native link per central.
final class PeripheralService: NSObject, CBPeripheralManagerDelegate, PeripheralPort {
    static let restoreId = "org.lichen.peripheral"
    private let queue = DispatchQueue(label: "org.lichen.peripheral")
    private var manager: CBPeripheralManager!
    private var session: PeripheralSession!
    private let tx = CBMutableCharacteristic(
        type: CBUUID(string: TinySSB.tx), properties: [.notify], value: nil, permissions: [.readable])
    private let rx = CBMutableCharacteristic(
        type: CBUUID(string: TinySSB.rx), properties: [.write], value: nil, permissions: [.writeable])
    private var centrals: [String: CBCentral] = [:]

    init(links: Links) {
        super.init()
        session = PeripheralSession(links: links, port: self)
        manager = CBPeripheralManager(
            delegate: self, queue: queue,
            options: [CBPeripheralManagerOptionRestoreIdentifierKey: Self.restoreId])
    }

    func peripheralManagerDidUpdateState(_ peripheral: CBPeripheralManager) {
        guard peripheral.state == .poweredOn else {
            session.allDown(reason: "Bluetooth is off")
            centrals.removeAll()
            return
        }
        let s = CBMutableService(type: CBUUID(string: TinySSB.service), primary: true)
        s.characteristics = [rx, tx]
        peripheral.removeAllServices()
        peripheral.add(s)
        peripheral.startAdvertising([CBAdvertisementDataServiceUUIDsKey: [s.uuid]])
    }

    func peripheralManager(
        _ peripheral: CBPeripheralManager, central: CBCentral,
        didSubscribeTo characteristic: CBCharacteristic
    ) {
        let id = central.identifier.uuidString
        centrals[id] = central
        // At once, on the delegate queue: the central's first write may follow right away.
        try? session.subscribed(central: id, maximumUpdateValueLength: central.maximumUpdateValueLength)
    }

    func peripheralManager(
        _ peripheral: CBPeripheralManager, central: CBCentral,
        didUnsubscribeFrom characteristic: CBCharacteristic
    ) {
        let id = central.identifier.uuidString
        centrals[id] = nil
        session.unsubscribed(central: id)
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, didReceiveWrite requests: [CBATTRequest]) {
        guard let first = requests.first else { return }
        var ok = true
        for r in requests where r.characteristic.uuid == rx.uuid {
            ok = ok && session.wrote(central: r.central.identifier.uuidString, value: r.value ?? Data())
        }
        peripheral.respond(to: first, withResult: ok ? .success : .unlikelyError)
    }

    func peripheralManagerIsReady(toUpdateSubscribers peripheral: CBPeripheralManager) {
        session.readyToUpdate()
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, willRestoreState dict: [String: Any]) {}

    /// PeripheralPort: called on a Lichen thread; `updateValue` must run on the queue.
    func notify(_ central: String, _ frame: Data) -> Bool {
        queue.sync {
            guard let c = centrals[central] else { return false }
            return manager.updateValue(frame, for: tx, onSubscribedCentrals: [c])
        }
    }
}
