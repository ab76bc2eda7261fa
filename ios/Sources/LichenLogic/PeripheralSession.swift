import Foundation
import Lichen

/// What CBPeripheralManager does for the session (App/Bluetooth/PeripheralService.swift).
public protocol PeripheralPort: AnyObject {
    /// `updateValue(frame, for: tx, onSubscribedCentrals: [central])`: false when the
    /// transmit queue is full (then wait for `peripheralManagerIsReady`).
    func notify(_ central: String, _ frame: Data) -> Bool
}

/// The phone as a tinySSB peripheral: one native link per subscribed central. Attach on
/// subscribe (MTU from `maximumUpdateValueLength` + 3), RX writes into the link, link down on
/// unsubscribe or Bluetooth off; a refused `updateValue` waits for `readyToUpdate()` (the
/// delegate's `peripheralManagerIsReady`) and is tried again, within Lichen's 5 s per frame.
public final class PeripheralSession {
    private let links: Links
    private let port: PeripheralPort
    private let lock = NSLock()
    private let ready = NSCondition()
    private var readyTicks = 0
    private var attached: [String: NativeLink] = [:]
    /// How long a refused frame waits for `readyToUpdate` before it counts as refused.
    public var readyWait: TimeInterval = 4

    public init(links: Links, port: PeripheralPort) {
        self.links = links
        self.port = port
    }

    public var centrals: [String] { lock.locked { attached.filter { $0.value.isUp() }.map(\.key) } }

    /// A central subscribed to TX. Throws `LinkError.MtuTooSmall` for a small MTU.
    public func subscribed(central: String, maximumUpdateValueLength: Int) throws {
        let old = lock.locked { attached.removeValue(forKey: central) }
        old?.linkDown(reason: "the central subscribed again")
        let sender = Sender(central: central, session: self)
        let link = try links.attachNativeLink(
            peer: central, mtu: UInt32(max(0, maximumUpdateValueLength + 3)), sender: sender)
        lock.locked { attached[central] = link }
    }

    /// A write request on RX; true to answer it with success, false with an ATT error.
    public func wrote(central: String, value: Data) -> Bool {
        guard let link = lock.locked({ attached[central] }) else { return false }
        do {
            try link.frameIn(frame: value)
            return true
        } catch {
            lock.locked { _ = attached.removeValue(forKey: central) }
            return false
        }
    }

    /// The central unsubscribed or disconnected.
    public func unsubscribed(central: String) {
        lock.locked { attached.removeValue(forKey: central) }?.linkDown(reason: "unsubscribed")
    }

    /// Bluetooth went off or the app is being suspended: every link ends.
    public func allDown(reason: String) {
        let all = lock.locked { () -> [NativeLink] in
            defer { attached.removeAll() }
            return Array(attached.values)
        }
        for l in all { l.linkDown(reason: reason) }
    }

    /// `peripheralManagerIsReady(toUpdateSubscribers:)`.
    public func readyToUpdate() {
        ready.lock()
        readyTicks += 1
        ready.broadcast()
        ready.unlock()
    }

    fileprivate func send(_ central: String, _ frame: Data) -> SendOutcome {
        let until = Date().addingTimeInterval(readyWait)
        while true {
            ready.lock()
            let tick = readyTicks
            ready.unlock()
            if port.notify(central, frame) { return .sent }
            ready.lock()
            defer { ready.unlock() }
            while readyTicks == tick {
                if !ready.wait(until: until) { return .refused(reason: "the transmit queue stayed full") }
            }
        }
    }
}

/// Sendable by hand: `session` is set once, in init.
private final class Sender: FrameSender, @unchecked Sendable {
    let central: String
    weak var session: PeripheralSession?
    init(central: String, session: PeripheralSession) {
        self.central = central
        self.session = session
    }
    func send(frame: Data) throws -> SendOutcome {
        guard let s = session else { return .refused(reason: "the peripheral stopped") }
        return s.send(central, frame)
    }
}
