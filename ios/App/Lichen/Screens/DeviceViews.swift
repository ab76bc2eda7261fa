// NOT BUILT HERE: SwiftUI. Dongle pairing and status (LichenLogic.DongleModel), links and
// sync, settings.
import Lichen
import LichenLogic
import SwiftUI
import UIKit

struct DongleView: View {
    @EnvironmentObject var app: AppModel

    var body: some View {
        NavigationStack {
            Form {
                switch app.dongle {
                case .idle:
                    Button("Look for dongles") { Task { await app.dongleModel?.scan() } }
                case .scanning:
                    ProgressView("Looking for dongles nearby…")
                case .found(let list):
                    Section("Dongles nearby") {
                        if list.isEmpty { Text("None found. Is it switched on and near?") }
                        ForEach(list, id: \.id) { d in
                            Button {
                                Task { await app.dongleModel?.pair(d.id) }
                            } label: {
                                HStack {
                                    Text(d.name)
                                    Spacer()
                                    if let r = d.rssi { Text("\(r) dBm").foregroundStyle(.secondary) }
                                }
                            }
                        }
                    }
                    Button("Look again") { Task { await app.dongleModel?.scan() } }
                case .pairing(let name):
                    ProgressView("Pairing with \(name)…")
                case .connecting, .reconnecting:
                    ProgressView(app.dongle == .connecting ? "Connecting…" : "Reconnecting…")
                case .connected(let mtu):
                    Section("Connected") {
                        if let st = app.dongleModel?.status {
                            LabeledContent("Dongle", value: st.paired.name)
                            if let l = st.link {
                                LabeledContent("Packets in / out", value: "\(l.packetsIn) / \(l.packetsOut)")
                                LabeledContent("Sync", value: l.sync)
                                if l.dongleFull {
                                    Text("The dongle is full: a new contact cannot pass through it")
                                        .foregroundStyle(.red)
                                }
                            }
                        }
                        LabeledContent("MTU", value: "\(mtu)")
                        Button("Refresh") { Task { await app.dongleModel?.refresh() } }
                        Button("Unpair", role: .destructive) { Task { await app.dongleModel?.unpair() } }
                    }
                case .linkLost(let why):
                    Section("Link lost") {
                        Text(why)
                        Text("Lichen reconnects by itself when the dongle is back in range.")
                            .foregroundStyle(.secondary)
                    }
                case .failed(let problem):
                    Section("That did not work") {
                        Text(problem.message)
                        Button(problem.actionTitle) { act(problem.action) }
                    }
                }
            }
            .navigationTitle("Dongle")
        }
    }

    private func act(_ a: PairingAction) {
        switch a {
        case .openSettings:
            if let url = URL(string: UIApplication.openSettingsURLString) { UIApplication.shared.open(url) }
        case .moveCloserAndRetry, .retry, .chooseAnotherDevice, .pairFirst:
            Task { await app.dongleModel?.scan() }
        case .turnOnBluetooth, .updateFirmware, .notPossibleHere, .reportProblem:
            app.dongle = .idle
        }
    }
}

struct LinksView: View {
    @EnvironmentObject var app: AppModel
    @State private var links: [LinkInfo] = []
    @State private var sync: SyncProgress?
    @State private var url = ""
    @State private var message: String?

    var body: some View {
        Form {
            Section("Sync") {
                if let s = sync {
                    Text(s.synced ? "Up to date" : (s.whyNot ?? "Catching up"))
                    LabeledContent("Feeds behind", value: "\(s.behind.count)")
                    LabeledContent("Entries missing", value: "\(s.entriesMissing)")
                }
            }
            Section("Links") {
                ForEach(links, id: \.face) { l in LabeledContent(l.kind, value: l.peer) }
                TextField("ws://host:port", text: $url).textInputAutocapitalization(.never)
                Button("Connect") {
                    Task {
                        do { _ = try await app.lichen?.links().dialWs(url: url, timeoutMs: 5000) } catch {
                            message = describe(error)
                        }
                        await reload()
                    }
                }
            }
        }
        .navigationTitle("Links and sync")
        .refreshable { await reload() }
        .task { await reload() }
        .alert(message ?? "", isPresented: Binding(get: { message != nil }, set: { _ in message = nil })) {}
    }

    private func reload() async {
        links = (try? await app.lichen?.links().list()) ?? []
        sync = try? await app.lichen?.sync().progress()
    }
}

struct SettingsView: View {
    @EnvironmentObject var app: AppModel
    @State private var name = ""
    @State private var receipts = true
    @State private var backup: String?

    var body: some View {
        NavigationStack {
            Form {
                Section("You") {
                    TextField("Name", text: $name)
                        .onSubmit { Task { try? await app.lichen?.settings().setMyName(name: name) } }
                    if let id = try? app.lichen?.feedId() {
                        Text(id).font(.caption.monospaced()).textSelection(.enabled)
                    }
                }
                Section("Privacy") {
                    Toggle("Read receipts", isOn: $receipts)
                        .onChange(of: receipts) { on in
                            Task {
                                guard var s = try? app.lichen?.settings().get() else { return }
                                s.receipts = on
                                try? await app.lichen?.settings().set(settings: s)
                            }
                        }
                }
                Section {
                    NavigationLink("Links and sync") { LinksView() }
                    Button("Make a backup") {
                        Task { backup = try? await app.lichen?.backup().export() }
                    }
                    if let b = backup {
                        ShareLink(item: b) { Label("Save the backup", systemImage: "square.and.arrow.up") }
                        Text("It holds your key: keep it private. Restore it only when this phone is gone.")
                            .font(.caption)
                    }
                }
            }
            .navigationTitle("Settings")
            .task {
                let s = try? app.lichen?.settings().get()
                name = s?.displayName ?? ""
                receipts = s?.receipts ?? true
            }
        }
    }
}
