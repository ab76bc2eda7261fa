// NOT BUILT HERE: SwiftUI. Build in Xcode (ios/README.md). The state behind every screen is
// LichenLogic's (tested under `swift test`); this layer only shows it and hops to main.
import Lichen
import LichenLogic
import SwiftUI

@main
struct LichenApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) var delegate
    @StateObject private var app = AppModel()
    @Environment(\.scenePhase) private var phase

    var body: some Scene {
        WindowGroup {
            Group {
                if app.ready {
                    RootView()
                } else {
                    OnboardingView()
                }
            }
            .environmentObject(app)
            .task { await app.launch() }
        }
        .onChange(of: phase) { p in app.active = (p == .active) }
    }
}

/// Bluetooth state restoration relaunches the app in the background: the root is opened
/// from `application(_:didFinishLaunchingWithOptions:)` through AppModel.launch as usual.
final class AppDelegate: NSObject, UIApplicationDelegate {
    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil
    ) -> Bool { true }
}

/// The app's one root: the onboarding, the chat list and the dongle as @Published state.
@MainActor
final class AppModel: ObservableObject {
    @Published var step: OnboardingModel.Step = .opening
    @Published var ready = false
    @Published var list = ChatListModel.Snapshot(items: [], selectedId: nil)
    @Published var dongle: DongleModel.Phase = .idle
    var active = true

    private(set) var lichen: Lichen?
    let gatt = CoreBluetoothGatt()
    lazy var central = CentralSession(gatt)
    private(set) var onboarding: OnboardingModel!
    let chatList = ChatListModel()
    private(set) var dongleModel: DongleModel?
    private var peripheral: PeripheralService?
    private let notifier = Notifier()
    private var policy = NotificationPolicy()

    func launch() async {
        guard onboarding == nil, let dir = try? DataDirectory.prepare() else { return }
        let central = self.central
        onboarding = OnboardingModel(dataDir: dir.path, asker: SystemPermissions()) { b in
            b.bleCentral(central: central)
        }
        onboarding.onChange = { s in Task { @MainActor in self.onStep(s) } }
        await onboarding.launch()
    }

    private func onStep(_ s: OnboardingModel.Step) {
        step = s
        guard s == .done, !ready, let l = onboarding.lichen else { return }
        lichen = l
        notifier.lichen = l
        chatList.onChange = { snap in
            Task { @MainActor in
                self.list = snap
                let visible = self.active ? snap.selectedId : nil
                self.notifier.apply(self.policy.decide(snap.items, visibleChat: visible))
            }
        }
        try? chatList.start(l.chats())
        let d = DongleModel(dongle: l.dongle(), session: central)
        d.onChange = { p in Task { @MainActor in self.dongle = p } }
        dongleModel = d
        Task { await d.resume() }
        peripheral = PeripheralService(links: l.links())
        ready = true
    }

    var onboardingModel: OnboardingModel { onboarding }
}
