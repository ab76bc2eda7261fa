// NOT BUILT HERE: SwiftUI. State: LichenLogic.ChatListModel and ConversationModel.
import Lichen
import LichenLogic
import SwiftUI

struct RootView: View {
    var body: some View {
        TabView {
            ChatListView().tabItem { Label("Chats", systemImage: "bubble.left.and.bubble.right") }
            ContactsView().tabItem { Label("People", systemImage: "person.2") }
            DongleView().tabItem { Label("Dongle", systemImage: "antenna.radiowaves.left.and.right") }
            SettingsView().tabItem { Label("Settings", systemImage: "gear") }
        }
    }
}

struct ChatListView: View {
    @EnvironmentObject var app: AppModel
    @State private var composing = false

    var body: some View {
        NavigationSplitView {
            List(
                app.list.items, id: \.id,
                selection: Binding(get: { app.list.selectedId }, set: { app.chatList.select($0) })
            ) { chat in
                HStack {
                    VStack(alignment: .leading) {
                        Text(chat.title).font(.headline)
                        Text(chat.preview ?? "").font(.subheadline).foregroundStyle(.secondary)
                            .lineLimit(1)
                    }
                    Spacer()
                    if chat.unread > 0 {
                        Text("\(chat.unread)").font(.caption.bold()).padding(6)
                            .background(Circle().fill(.tint)).foregroundStyle(.white)
                    }
                }
            }
            .navigationTitle("Chats")
            .toolbar {
                Button { composing = true } label: { Image(systemName: "square.and.pencil") }
            }
            .sheet(isPresented: $composing) { NewChatView() }
        } detail: {
            if let id = app.list.selectedId, let l = app.lichen,
                let conv = try? l.chats().conversation(chatId: id)
            {
                ConversationView(model: ConversationModel(conv)).id(id)
            } else {
                Text("Choose a chat").foregroundStyle(.secondary)
            }
        }
    }
}

@MainActor
final class ConversationState: ObservableObject {
    @Published var snap = ConversationModel.Snapshot(messages: [], hasOlder: true)
    let model: ConversationModel
    init(_ model: ConversationModel) {
        self.model = model
        model.onChange = { s in Task { @MainActor in self.snap = s } }
        try? model.start(pageSize: 50)
    }
}

struct ConversationView: View {
    @StateObject private var state: ConversationState
    @State private var draft = ""
    @State private var error: String?
    @Environment(\.scenePhase) private var phase

    init(model: ConversationModel) { _state = StateObject(wrappedValue: ConversationState(model)) }

    var body: some View {
        VStack {
            ScrollViewReader { proxy in
                List {
                    if state.snap.hasOlder {
                        Button("Earlier messages") { Task { try? await state.model.loadOlder() } }
                    }
                    ForEach(state.snap.messages, id: \.id) { m in
                        HStack {
                            if m.mine { Spacer() }
                            VStack(alignment: m.mine ? .trailing : .leading) {
                                Text(m.text)
                                if m.mine, let mark = DeliveryMark(m.state) {
                                    Image(systemName: mark.symbol).font(.caption2)
                                        .accessibilityLabel(mark.label)
                                }
                            }
                            if !m.mine { Spacer() }
                        }
                        .id(m.id)
                    }
                }
                .onChange(of: state.snap.messages.last?.id) { id in
                    if let id { proxy.scrollTo(id, anchor: .bottom) }
                }
            }
            HStack {
                TextField("Message", text: $draft, axis: .vertical)
                Button("Send") {
                    let text = draft
                    draft = ""
                    Task {
                        do { _ = try await state.model.send(text) } catch { self.error = describe(error) }
                    }
                }
                .disabled(draft.isEmpty)
            }
            .padding()
        }
        .alert(error ?? "", isPresented: Binding(get: { error != nil }, set: { _ in error = nil })) {}
        .task(id: state.snap.messages.count) {
            if phase == .active { try? await state.model.markRead() }
        }
    }
}

/// A new chat with one person (a chat) or two to six (a group), from the contacts.
struct NewChatView: View {
    @EnvironmentObject var app: AppModel
    @Environment(\.dismiss) private var dismiss
    @State private var contacts: [Contact] = []
    @State private var picked: Set<String> = []
    @State private var error: String?

    var body: some View {
        NavigationStack {
            List(contacts, id: \.feedId, selection: $picked) { c in Text(c.name) }
                .environment(\.editMode, .constant(.active))
                .navigationTitle(picked.count > 1 ? "New group" : "New chat")
                .toolbar {
                    Button("Start") {
                        Task {
                            do {
                                let conv = try await app.lichen?.chats().withPeople(people: Array(picked))
                                app.chatList.select(conv?.id())
                                dismiss()
                            } catch { self.error = describe(error) }
                        }
                    }
                    .disabled(picked.isEmpty || picked.count > 6)
                }
                .task { contacts = (try? await app.lichen?.contacts().list()) ?? [] }
                .alert(error ?? "", isPresented: Binding(get: { error != nil }, set: { _ in error = nil })) {}
        }
    }
}
