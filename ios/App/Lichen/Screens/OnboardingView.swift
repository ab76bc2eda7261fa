// NOT BUILT HERE: SwiftUI. State: LichenLogic.OnboardingModel.
import LichenLogic
import SwiftUI

struct OnboardingView: View {
    @EnvironmentObject var app: AppModel
    @State private var name = ""
    @State private var backup = ""
    @State private var restoring = false

    var body: some View {
        NavigationStack {
            Form {
                switch app.step {
                case .opening, .working:
                    ProgressView("Opening Lichen…")
                case .welcome:
                    Section("New here") {
                        TextField("Your name (others see it)", text: $name)
                        Button("Start") { Task { await app.onboardingModel.createNew(name: name) } }
                    }
                    Section("Moving from another phone") {
                        Button("Restore a backup") { restoring = true }
                    }
                case .forkWarning(let text):
                    Section("Before you go on") {
                        Label(text, systemImage: "exclamationmark.triangle.fill")
                            .foregroundStyle(.orange)
                        Button("I stopped using the other phone") {
                            Task { await app.onboardingModel.acceptForkWarning() }
                        }
                    }
                case .permissions(let p):
                    Section(p == .bluetooth ? "Bluetooth" : "Notifications") {
                        Text(
                            p == .bluetooth
                                ? "Lichen reaches your LoRa dongle and nearby phones over Bluetooth, also while the phone is locked."
                                : "Lichen tells you about new messages while it runs in the background.")
                        ProgressView()
                    }
                case .done:
                    ProgressView()
                case .failed(let why):
                    Section("That did not work") {
                        Text(why)
                        Button("Start over") { app.onboardingModel.startOver() }
                    }
                }
            }
            .navigationTitle("Lichen")
            .sheet(isPresented: $restoring) {
                NavigationStack {
                    Form {
                        Section("Paste the backup from the old phone") {
                            TextEditor(text: $backup).frame(minHeight: 160)
                        }
                        Button("Restore") {
                            restoring = false
                            Task { await app.onboardingModel.restore(backup: backup) }
                        }
                        .disabled(backup.isEmpty)
                    }
                    .navigationTitle("Restore")
                }
            }
        }
    }
}
