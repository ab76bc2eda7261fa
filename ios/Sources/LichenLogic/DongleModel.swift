import Foundation
import Lichen

/// What the person can do about a pairing error: each `DongleError` maps to one.
public enum PairingAction: Equatable {
    /// Switch Bluetooth on (Control Centre).
    case turnOnBluetooth
    /// Allow Bluetooth for Lichen in Settings (the app opens its settings page).
    case openSettings
    /// The dongle is off, out of range or busy: move closer, switch it on, retry.
    case moveCloserAndRetry
    /// The dongle's firmware cannot carry a whole packet per write: update it.
    case updateFirmware
    /// Not a tinySSB dongle (other firmware): choose another device.
    case chooseAnotherDevice
    /// Connecting took too long: retry.
    case retry
    /// Nothing is paired yet: scan and pair.
    case pairFirst
    /// This phone or this build cannot reach dongles at all.
    case notPossibleHere
    /// Anything else: show the text and offer to send the log.
    case reportProblem
}

/// A pairing error as the screen shows it: the library's text and the one action.
public struct PairingProblem: Equatable {
    public var action: PairingAction
    public var message: String

    public init(_ error: DongleError) {
        message = describe(error)
        switch error {
        case .BluetoothOff: action = .turnOnBluetooth
        case .BluetoothAbsent: action = .notPossibleHere
        case .PermissionMissing: action = .openSettings
        case .DeviceGone: action = .moveCloserAndRetry
        case .MtuTooSmall: action = .updateFirmware
        case .ServiceMissing: action = .chooseAnotherDevice
        case .Timeout: action = .retry
        case .NotPaired: action = .pairFirst
        case .Unsupported: action = .notPossibleHere
        case .Other: action = .reportProblem
        }
    }

    /// The button's title.
    public var actionTitle: String {
        switch action {
        case .turnOnBluetooth: return "Turn on Bluetooth"
        case .openSettings: return "Open Settings"
        case .moveCloserAndRetry: return "Try again nearby"
        case .updateFirmware: return "How to update the dongle"
        case .chooseAnotherDevice: return "Choose another device"
        case .retry: return "Try again"
        case .pairFirst: return "Pair a dongle"
        case .notPossibleHere: return "OK"
        case .reportProblem: return "Send the log"
        }
    }
}

/// The dongle screen: scan → pick → pair → connected, and afterwards the link's life as the
/// central session reports it (lost → reconnecting → connected; the library's supervisor
/// does the reconnecting). `status()` fills in the figures (MTU, packets, sync).
public final class DongleModel: CentralObserver {
    public enum Phase: Equatable {
        case idle
        case scanning
        case found([FoundDongle])
        case pairing(String)
        /// Paired; waiting for the supervisor's first link.
        case connecting
        case connected(mtu: UInt32)
        case linkLost(String)
        case reconnecting
        case failed(PairingProblem)

        /// The phase's name (for logs and tests).
        public var name: String {
            switch self {
            case .idle: return "idle"
            case .scanning: return "scanning"
            case .found: return "found"
            case .pairing: return "pairing"
            case .connecting: return "connecting"
            case .connected: return "connected"
            case .linkLost: return "linkLost"
            case .reconnecting: return "reconnecting"
            case .failed: return "failed"
            }
        }
    }

    private let dongle: Dongle
    private let lock = NSLock()
    private var phaseNow: Phase = .idle
    private var pairedId: String?
    private var trailNow: [String] = ["idle"]
    /// Links up now, by device id, with their MTU (heard before pairing finished, too).
    private var up: [String: UInt32] = [:]
    public private(set) var status: PairingStatus?
    public var onChange: ((Phase) -> Void)?

    /// `session` is the central the root was built with; the model hears its links.
    public init(dongle: Dongle, session: CentralSession?) {
        self.dongle = dongle
        session?.observer = self
    }

    public var phase: Phase { lock.locked { phaseNow } }
    /// Every phase entered, by name, in order.
    public var trail: [String] { lock.locked { trailNow } }

    private func go(_ p: Phase) {
        lock.locked {
            phaseNow = p
            if trailNow.last != p.name { trailNow.append(p.name) }
        }
        onChange?(p)
    }

    /// Looks for dongles for `timeoutMs`.
    public func scan(timeoutMs: UInt32 = 3000) async {
        go(.scanning)
        do {
            let found = try await dongle.scan(timeoutMs: timeoutMs)
            go(.found(found))
        } catch let e as DongleError {
            go(.failed(PairingProblem(e)))
        } catch {
            go(.failed(PairingProblem(.Other(reason: describe(error)))))
        }
    }

    /// Pairs with a dongle from the scan (its id or name).
    public func pair(_ id: String) async {
        go(.pairing(id))
        do {
            let p = try await dongle.pair(id: id)
            let mtu = lock.locked { () -> UInt32? in
                pairedId = p.id
                return up[p.id]
            }
            if case .pairing = phase { go(mtu.map { .connected(mtu: $0) } ?? .connecting) }
            await refresh()
        } catch let e as DongleError {
            go(.failed(PairingProblem(e)))
        } catch {
            go(.failed(PairingProblem(.Other(reason: describe(error)))))
        }
    }

    /// At launch with a dongle paired before: the supervisor is already connecting.
    public func resume() async {
        do {
            let st = try await dongle.status()
            lock.locked { pairedId = st.paired.id }
            status = st
            go(st.link?.connected == true ? .connected(mtu: st.link?.mtu ?? 0) : .connecting)
        } catch let e as DongleError {
            go(e == .NotPaired(reason: describe(e)) ? .idle : .failed(PairingProblem(e)))
        } catch {}
    }

    public func unpair() async {
        do {
            _ = try await dongle.unpair()
            lock.locked { pairedId = nil }
            go(.idle)
        } catch let e as DongleError {
            go(.failed(PairingProblem(e)))
        } catch {}
    }

    /// Reads the link's figures (MTU, packets, sync) for the status card.
    public func refresh() async {
        status = try? await dongle.status()
    }

    // MARK: CentralObserver (called on Lichen's threads)

    private func isPaired(_ id: String) -> Bool { lock.locked { pairedId == id } }

    public func opening(_ id: String) {
        guard isPaired(id) else { return }
        if case .linkLost = phase { go(.reconnecting) }
    }

    public func opened(_ id: String, mtu: UInt32) {
        lock.locked { up[id] = mtu }
        guard isPaired(id) else { return }
        go(.connected(mtu: mtu))
    }

    public func openFailed(_ id: String, reason: String) {
        guard isPaired(id) else { return }
        if case .reconnecting = phase { go(.linkLost(reason)) }
    }

    public func lost(_ id: String, reason: String) {
        lock.locked { _ = up.removeValue(forKey: id) }
        guard isPaired(id) else { return }
        go(.linkLost(reason))
    }

    public func closed(_ id: String) {
        lock.locked { _ = up.removeValue(forKey: id) }
    }
}
