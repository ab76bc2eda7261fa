// NOT BUILT HERE: CoreBluetooth and UserNotifications. The order and the answers are
// LichenLogic's OnboardingModel (tested with a scripted asker).
import CoreBluetooth
import Foundation
import LichenLogic
import UserNotifications

/// Asks iOS. Bluetooth's prompt appears when a manager is first made; its answer is the
/// authorization once the manager reports a state.
final class SystemPermissions: NSObject, PermissionAsker, CBCentralManagerDelegate {
    private var probe: CBCentralManager?
    private var answered: CheckedContinuation<PermissionAnswer, Never>?

    func ask(_ permission: Permission) async -> PermissionAnswer {
        switch permission {
        case .notifications:
            let ok = (try? await UNUserNotificationCenter.current()
                .requestAuthorization(options: [.alert, .badge, .sound])) ?? false
            return ok ? .granted : .denied
        case .bluetooth:
            if CBManager.authorization == .allowedAlways { return .granted }
            return await withCheckedContinuation { c in
                answered = c
                probe = CBCentralManager(delegate: self, queue: nil)
            }
        }
    }

    func centralManagerDidUpdateState(_ central: CBCentralManager) {
        guard let c = answered else { return }
        answered = nil
        c.resume(returning: CBManager.authorization == .allowedAlways ? .granted : .denied)
        probe = nil
    }
}
