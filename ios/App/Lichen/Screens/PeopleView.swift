// NOT BUILT HERE: SwiftUI, CoreImage, VisionKit. Contacts with QR show and scan; invites.
import CoreImage.CIFilterBuiltins
import Lichen
import LichenLogic
import SwiftUI
import VisionKit

struct ContactsView: View {
    @EnvironmentObject var app: AppModel
    @State private var contacts: [Contact] = []
    @State private var showingMine = false
    @State private var scanning = false
    @State private var message: String?

    var body: some View {
        NavigationStack {
            List {
                Section {
                    Button("Show my code") { showingMine = true }
                    Button("Scan a code") { scanning = true }
                        .disabled(!DataScannerViewController.isSupported)
                    NavigationLink("Invites") { InvitesView() }
                }
                Section("People") {
                    ForEach(contacts, id: \.feedId) { c in
                        VStack(alignment: .leading) {
                            Text(c.name)
                            Text(c.shortId).font(.caption.monospaced()).foregroundStyle(.secondary)
                        }
                    }
                    .onDelete { rows in
                        let gone = rows.map { contacts[$0].feedId }
                        Task {
                            for id in gone { try? await app.lichen?.contacts().remove(reference: id) }
                            await reload()
                        }
                    }
                }
            }
            .navigationTitle("People")
            .task { await reload() }
            .sheet(isPresented: $showingMine) { MyCodeView() }
            .sheet(isPresented: $scanning) {
                QRScanner { text in
                    scanning = false
                    Task {
                        do {
                            _ = try await app.lichen?.invites().accept(beacon: text)
                            await reload()
                        } catch { message = describe(error) }
                    }
                }
            }
            .alert(message ?? "", isPresented: Binding(get: { message != nil }, set: { _ in message = nil })) {}
        }
    }

    private func reload() async { contacts = (try? await app.lichen?.contacts().list()) ?? [] }
}

/// My invite as a QR code (made when shown: it carries this phone's relays).
struct MyCodeView: View {
    @EnvironmentObject var app: AppModel
    @State private var beacon: String?
    @State private var error: String?

    var body: some View {
        Group {
            if let b = beacon { QRView(text: b) } else if let e = error { Text(e) } else { ProgressView() }
        }
        .task {
            do { beacon = try await app.lichen?.invites().make(relay: nil, alias: nil) } catch {
                self.error = describe(error)
            }
        }
    }
}

struct InvitesView: View {
    @EnvironmentObject var app: AppModel
    @State private var beacon = ""
    @State private var preview: InvitePreview?
    @State private var message: String?

    var body: some View {
        Form {
            Section("An invite someone gave you") {
                TextField("Paste it here", text: $beacon)
                Button("Look at it") {
                    Task {
                        do { preview = try await app.lichen?.invites().preview(beacon: beacon) } catch {
                            message = describe(error)
                        }
                    }
                }
            }
            if let p = preview {
                Section("From \(p.inviter)") {
                    Text("Relay: \(p.relay)")
                    Button("Accept") {
                        Task {
                            do {
                                _ = try await app.lichen?.invites().accept(beacon: beacon)
                                message = "Added."
                            } catch { message = describe(error) }
                        }
                    }
                }
            }
        }
        .navigationTitle("Invites")
        .alert(message ?? "", isPresented: Binding(get: { message != nil }, set: { _ in message = nil })) {}
    }
}

struct QRView: View {
    let text: String
    var body: some View {
        VStack {
            if let img = Self.image(text) {
                Image(uiImage: img).interpolation(.none).resizable().scaledToFit().padding()
            }
            Text("Let the other person scan this").font(.headline)
        }
    }

    static func image(_ s: String) -> UIImage? {
        let f = CIFilter.qrCodeGenerator()
        f.message = Data(s.utf8)
        guard let out = f.outputImage?.transformed(by: CGAffineTransform(scaleX: 10, y: 10)),
            let cg = CIContext().createCGImage(out, from: out.extent)
        else { return nil }
        return UIImage(cgImage: cg)
    }
}

/// The camera (NSCameraUsageDescription) reading one QR code.
struct QRScanner: UIViewControllerRepresentable {
    let found: (String) -> Void

    func makeUIViewController(context: Context) -> DataScannerViewController {
        let v = DataScannerViewController(recognizedDataTypes: [.barcode(symbologies: [.qr])])
        v.delegate = context.coordinator
        try? v.startScanning()
        return v
    }

    func updateUIViewController(_ v: DataScannerViewController, context: Context) {}
    func makeCoordinator() -> Coordinator { Coordinator(found) }

    final class Coordinator: NSObject, DataScannerViewControllerDelegate {
        let found: (String) -> Void
        init(_ f: @escaping (String) -> Void) { found = f }
        func dataScanner(
            _ s: DataScannerViewController, didAdd items: [RecognizedItem], allItems: [RecognizedItem]
        ) {
            for case .barcode(let b) in items { if let t = b.payloadStringValue { found(t); return } }
        }
    }
}
