import Foundation
import Lichen

/// The chat list as observable state over the bindings' diffs (`ChatListDiff`): the rows,
/// the selected chat (kept by id, so it stays on the same chat when the list reorders) and
/// the unread total (the app's badge). Diffs arrive on a Lichen thread; `onChange` is called
/// there too, after each batch, and the app hops to the main thread.
public final class ChatListModel {
    public struct Snapshot: Equatable {
        public var items: [ChatListItem]
        public var selectedId: String?
        /// Where the selected chat is now (nil: none selected, or it left the list).
        public var selectedIndex: Int? {
            selectedId.flatMap { id in items.firstIndex { $0.id == id } }
        }
        public var unreadTotal: Int { items.reduce(0) { $0 + Int($1.unread) } }
    }

    private let lock = NSLock()
    private var state = Snapshot(items: [], selectedId: nil)
    private var resets = 0
    private var handle: TaskHandle?
    /// Called after every batch of diffs (on the thread that delivered them).
    public var onChange: ((Snapshot) -> Void)?

    public init() {}

    /// Starts hearing `chats`; the first batch is a `reset`. Stops with `stop()` or deinit.
    public func start(_ chats: Chats) throws {
        handle = try chats.subscribe(listener: ListForwarder(self))
    }

    public func stop() {
        handle?.cancel()
        handle = nil
    }

    deinit { handle?.cancel() }

    public var snapshot: Snapshot { lock.locked { state } }
    /// How many resets arrived (1 once the list is loaded).
    public var resetCount: Int { lock.locked { resets } }

    public func select(_ chatId: String?) {
        let now = lock.locked { () -> Snapshot in
            state.selectedId = chatId
            return state
        }
        onChange?(now)
    }

    /// Applies one batch. A diff pointing outside the list is a broken stream: the batch is
    /// refused whole (the list stays as it was) and the error goes back to Lichen's log.
    func apply(_ diffs: [ChatListDiff]) throws {
        let now = try lock.locked { () -> Snapshot in
            var items = state.items
            try Self.apply(diffs, to: &items, resets: &resets)
            state.items = items
            return state
        }
        onChange?(now)
    }

    static func apply(_ diffs: [ChatListDiff], to items: inout [ChatListItem], resets: inout Int)
        throws
    {
        for d in diffs {
            switch d {
            case .reset(let values):
                items = values
                resets += 1
            case .insert(let index, let value):
                guard Int(index) <= items.count else { throw outOfRange("insert", index, items.count) }
                items.insert(value, at: Int(index))
            case .set(let index, let value):
                guard Int(index) < items.count else { throw outOfRange("set", index, items.count) }
                items[Int(index)] = value
            case .remove(let index):
                guard Int(index) < items.count else { throw outOfRange("remove", index, items.count) }
                items.remove(at: Int(index))
            }
        }
    }
}

func outOfRange(_ what: String, _ index: UInt32, _ count: Int) -> CallbackError {
    CallbackError.Failed(reason: "\(what) at \(index) in a list of \(count)")
}

/// Held by Lichen; holds the model weakly so dropping the model ends the stream.
/// Sendable by hand: `model` is set once, in init.
private final class ListForwarder: ChatListListener, @unchecked Sendable {
    weak var model: ChatListModel?
    init(_ model: ChatListModel) { self.model = model }
    func onUpdate(diffs: [ChatListDiff]) throws { try model?.apply(diffs) }
}

extension NSLock {
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
