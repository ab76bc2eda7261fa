import Foundation
import Lichen

/// What the app asks the system for, one at a time, each with a reason shown first.
public enum Permission: String, CaseIterable, Equatable {
    /// Dongles and phones nearby (CBCentralManager / CBPeripheralManager authorization).
    case bluetooth
    /// New messages while the app is in the background.
    case notifications
}

public enum PermissionAnswer: Equatable { case granted, denied }

/// The platform side of the permission flow (CoreBluetooth, UNUserNotificationCenter).
public protocol PermissionAsker: AnyObject {
    func ask(_ permission: Permission) async -> PermissionAnswer
}

/// From nothing to the chat list: open what is there, or make a new identity, or restore
/// one (a backup or a key file), warn about forks when the key may be in use elsewhere,
/// then ask for the permissions.
public final class OnboardingModel {
    public enum Step: Equatable {
        /// Looking for an identity in the data directory.
        case opening
        /// Nothing there: make one or restore.
        case welcome
        /// Busy making or restoring.
        case working
        /// The restored key may have entries on another device: posting waits for them.
        case forkWarning(String)
        /// Asking for `Permission`; the rest follow.
        case permissions(Permission)
        /// The chat list.
        case done
        /// Something failed; the text is for the person, the step to go back to is `welcome`.
        case failed(String)
    }

    public static let forkWarningText =
        "This key may already have messages on another phone. Lichen will not post until it "
        + "has found them on a peer. Never use the same key on two phones at once: that breaks "
        + "your history for everyone. Stop using the other phone now."

    private let dataDir: String
    private let configure: (LichenBuilder) -> Void
    private let asker: PermissionAsker
    public private(set) var step: Step = .opening { didSet { onChange?(step) } }
    public private(set) var lichen: Lichen?
    public private(set) var answers: [Permission: PermissionAnswer] = [:]
    /// Every step taken, in order (the app logs it; tests read it).
    public private(set) var trail: [Step] = []
    public var onChange: ((Step) -> Void)?

    /// `configure` gives the builder what the app brings (its Bluetooth central).
    public init(
        dataDir: String, asker: PermissionAsker,
        configure: @escaping (LichenBuilder) -> Void = { _ in }
    ) {
        self.dataDir = dataDir
        self.asker = asker
        self.configure = configure
    }

    private func go(_ s: Step) {
        step = s
        trail.append(s)
    }

    private func builder() -> LichenBuilder {
        let b = LichenBuilder(dataDir: dataDir)
        configure(b)
        return b
    }

    /// At launch: opens the identity if there is one (straight to the chat list).
    public func launch() async {
        go(.opening)
        do {
            let l = try await builder().open()
            lichen = l
            go(.done)
        } catch SetupError.NoData {
            go(.welcome)
        } catch {
            go(.failed(describe(error)))
        }
    }

    /// A new identity with `name` shown to others.
    public func createNew(name: String) async {
        go(.working)
        do {
            let l = try await builder().create()
            lichen = l
            let n = name.trimmingCharacters(in: .whitespacesAndNewlines)
            if !n.isEmpty { try await l.settings().setMyName(name: n) }
            await askPermissions()
        } catch {
            go(.failed(describe(error)))
        }
    }

    /// A backup's text (from Settings › Backup on the old phone).
    public func restore(backup: String) async {
        go(.working)
        do {
            let l = try await builder().restoreBackup(backup: backup)
            lichen = l
            try await afterRestore(l)
        } catch {
            go(.failed(describe(error)))
        }
    }

    /// A key file's text; `usedBefore` is the person's answer to "did you post with it?".
    public func importKey(_ keyFile: String, usedBefore: Bool) async {
        go(.working)
        do {
            let l = try await builder().importKey(
                keyFile: keyFile, keyIs: usedBefore ? .mayHaveEntries : .new)
            lichen = l
            try await afterRestore(l)
        } catch {
            go(.failed(describe(error)))
        }
    }

    private func afterRestore(_ l: Lichen) async throws {
        if try l.keyState() == .unrecovered {
            go(.forkWarning(Self.forkWarningText))
        } else {
            await askPermissions()
        }
    }

    /// The person read the fork warning and goes on (posting still waits for recovery).
    public func acceptForkWarning() async {
        guard case .forkWarning = step else { return }
        await askPermissions()
    }

    /// Back to the start after a failure.
    public func startOver() {
        go(.welcome)
    }

    private func askPermissions() async {
        for p in Permission.allCases {
            go(.permissions(p))
            answers[p] = await asker.ask(p)
        }
        go(.done)
    }
}

/// The person-facing text of any error from the bindings (each carries one).
/// The bindings' error enums carry it as the case's `reason` (or `missing`) field.
public func describe(_ error: Error) -> String {
    let m = Mirror(reflecting: error)
    for child in m.children {
        // An enum case with a payload: one child named after the case, holding the fields.
        for field in Mirror(reflecting: child.value).children
        where field.label == "reason" || field.label == "missing" {
            if let text = field.value as? String { return text }
        }
        if let text = child.value as? String { return text }
    }
    return String(describing: error)
}
