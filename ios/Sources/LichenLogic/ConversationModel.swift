import Foundation
import Lichen

/// One conversation as observable state over `TimelineDiff`s: the messages shown (oldest
/// first), whether older pages remain, and a delivery mark per message of mine.
public final class ConversationModel {
    public struct Snapshot: Equatable {
        public var messages: [ChatMessage]
        /// False once a page back found the beginning of the chat.
        public var hasOlder: Bool
    }

    public let conversation: Conversation
    private let lock = NSLock()
    private var state = Snapshot(messages: [], hasOlder: true)
    private var resets = 0
    private var handle: TaskHandle?
    public var onChange: ((Snapshot) -> Void)?

    public init(_ conversation: Conversation) { self.conversation = conversation }

    /// Starts hearing the timeline with the newest `pageSize` messages.
    public func start(pageSize: UInt32 = 50) throws {
        handle = try conversation.subscribe(listener: TimelineForwarder(self), pageSize: pageSize)
    }

    public func stop() {
        handle?.cancel()
        handle = nil
    }

    deinit { handle?.cancel() }

    public var snapshot: Snapshot { lock.locked { state } }
    public var resetCount: Int { lock.locked { resets } }

    public func send(_ text: String) async throws -> ChatMessage {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ChatError.Invalid(reason: "Write something first.") }
        return try await conversation.send(text: trimmed)
    }

    /// Called when the conversation is on screen with the app active.
    public func markRead() async throws { try await conversation.markRead() }

    /// Asks for `count` older messages (they arrive as a `pushFront`).
    public func loadOlder(count: UInt32 = 50) async throws {
        let more = try await conversation.pageBack(count: count)
        let now = lock.locked { () -> Snapshot in
            state.hasOlder = more
            return state
        }
        onChange?(now)
    }

    func apply(_ diffs: [TimelineDiff]) throws {
        let now = try lock.locked { () -> Snapshot in
            var m = state.messages
            for d in diffs {
                switch d {
                case .reset(let values):
                    m = values
                    resets += 1
                case .insert(let index, let value):
                    guard Int(index) <= m.count else { throw outOfRange("insert", index, m.count) }
                    m.insert(value, at: Int(index))
                case .set(let index, let value):
                    guard Int(index) < m.count else { throw outOfRange("set", index, m.count) }
                    m[Int(index)] = value
                case .remove(let index):
                    guard Int(index) < m.count else { throw outOfRange("remove", index, m.count) }
                    m.remove(at: Int(index))
                case .pushFront(let values):
                    m.insert(contentsOf: values, at: 0)
                case .append(let values):
                    m.append(contentsOf: values)
                }
            }
            state.messages = m
            return state
        }
        onChange?(now)
    }
}

/// The mark beside a message of mine: what the person reads from it.
public enum DeliveryMark: Equatable {
    case pending, sent, stored, delivered, read

    /// Nil for messages of others (they carry no state).
    public init?(_ state: DeliveryState?) {
        guard let state else { return nil }
        switch state {
        case .written: self = .pending
        case .sent: self = .sent
        case .stored: self = .stored
        case .delivered: self = .delivered
        case .read: self = .read
        }
    }

    /// An SF Symbol name.
    public var symbol: String {
        switch self {
        case .pending: return "clock"
        case .sent: return "checkmark"
        case .stored: return "checkmark.circle"
        case .delivered: return "checkmark.circle.fill"
        case .read: return "eye.fill"
        }
    }

    /// For VoiceOver.
    public var label: String {
        switch self {
        case .pending: return "Waiting to leave this phone"
        case .sent: return "Sent"
        case .stored: return "Held by another device"
        case .delivered: return "Delivered"
        case .read: return "Read"
        }
    }
}

/// Sendable by hand: `model` is set once, in init.
private final class TimelineForwarder: TimelineListener, @unchecked Sendable {
    weak var model: ConversationModel?
    init(_ model: ConversationModel) { self.model = model }
    func onUpdate(diffs: [TimelineDiff]) throws { try model?.apply(diffs) }
}
