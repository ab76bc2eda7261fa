import Foundation
import Lichen

/// A local notification to post (UNMutableNotificationContent in the app).
public struct LocalNotice: Equatable {
    /// Also the notification's thread and identifier: one per chat, replaced as it grows.
    public var chatId: String
    public var title: String
    public var body: String
    /// The category with the Reply (text input) and Mark read actions.
    public static let category = "lichen.message"
    public static let replyAction = "lichen.reply"
    public static let markReadAction = "lichen.markRead"
}

/// What to show for a new chat list: which chats get a notification, the badge, which
/// delivered notifications to withdraw (their chat was read elsewhere).
public struct NotificationDecision: Equatable {
    public var post: [LocalNotice]
    public var withdraw: [String]
    /// The unread total: the app icon's badge.
    public var badge: Int
}

/// Decides from chat list snapshots alone, so it runs the same in the foreground, in the
/// background (Bluetooth woke the app) and in tests.
public struct NotificationPolicy {
    private var lastUnread: [String: UInt32] = [:]
    private var primed = false
    /// Show the message text in notifications (Settings; off hides it on the lock screen).
    public var showPreview = true

    public init() {}

    /// `visibleChat` is the conversation on screen while the app is active (nil otherwise).
    public mutating func decide(_ items: [ChatListItem], visibleChat: String?)
        -> NotificationDecision
    {
        var post: [LocalNotice] = []
        var withdraw: [String] = []
        for c in items {
            let before = lastUnread[c.id] ?? 0
            if primed, c.unread > before, c.id != visibleChat {
                let body =
                    showPreview
                    ? (c.preview ?? "New message")
                    : (c.unread == 1 ? "New message" : "\(c.unread) new messages")
                post.append(LocalNotice(chatId: c.id, title: c.title, body: body))
            }
            if c.unread == 0, before > 0 { withdraw.append(c.id) }
        }
        lastUnread = Dictionary(items.map { ($0.id, $0.unread) }, uniquingKeysWith: { a, _ in a })
        // The first list after launch is what was there already: it sets the badge only.
        primed = true
        let badge = items.reduce(0) { $0 + Int($1.unread) }
        return NotificationDecision(post: post, withdraw: withdraw, badge: badge)
    }
}

/// The notification's actions, run against the root (also while the app is in background).
public enum NotificationActions {
    public static func handle(action: String, chatId: String, text: String?, lichen: Lichen)
        async throws
    {
        let conv = try lichen.chats().conversation(chatId: chatId)
        switch action {
        case LocalNotice.replyAction:
            if let t = text?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty {
                _ = try await conv.send(text: t)
            }
            try await conv.markRead()
        case LocalNotice.markReadAction:
            try await conv.markRead()
        default:
            break
        }
    }
}
