import Foundation
import Lichen
import XCTest

@testable import LichenLogic

final class ChatTests: XCTestCase {
    /// Two nodes over WebSocket loopback: B's list shows the chat with unread 1, then 0 once
    /// read; A's mark walks up to read; B's notifications post once and the badge follows.
    func testTwoNodesExchangeAPrivateMessage() async throws {
        let a = try await newRoot("a")
        let b = try await newRoot("b")
        let bId = try b.feedId()
        let convA = ConversationModel(try await a.chats().withPeople(people: [bId]))
        try convA.start()
        let listB = ChatListModel()
        var policy = NotificationPolicy()
        var decisions: [NotificationDecision] = []
        let decided = NSLock()
        listB.onChange = { snap in
            decided.lock()
            decisions.append(policy.decide(snap.items, visibleChat: nil))
            decided.unlock()
        }
        try listB.start(b.chats())
        try await waitFor("b's list") { listB.resetCount == 1 }

        let sent = try await convA.send("hello B, only for you")
        try await waitFor("a's own message") { convA.snapshot.messages.count == 1 }
        XCTAssertEqual(DeliveryMark(convA.snapshot.messages[0].state), .pending)
        let (_, _) = try await link(a, b)

        let chat = try await waitFor("the chat at b") {
            listB.snapshot.items.first { $0.kind == .oneToOne && $0.unread == 1 }
        }
        XCTAssertEqual(chat.preview, "hello B, only for you")
        XCTAssertEqual(listB.snapshot.unreadTotal, 1)
        let convB = ConversationModel(try b.chats().conversation(chatId: chat.id))
        try convB.start()
        try await waitFor("b's timeline") { convB.snapshot.messages.count == 1 }
        XCTAssertEqual(convB.snapshot.messages[0].text, "hello B, only for you")
        XCTAssertFalse(convB.snapshot.messages[0].mine)

        try await convB.markRead()
        try await waitFor("b's unread to drop") {
            listB.snapshot.items.first { $0.id == chat.id }?.unread == 0
        }
        XCTAssertEqual(listB.snapshot.unreadTotal, 0)
        try await waitFor("read at a", timeout: 60) {
            convA.snapshot.messages.first?.state == .read
        }
        XCTAssertEqual(convA.snapshot.messages[0].id, sent.id)
        XCTAssertEqual(DeliveryMark(convA.snapshot.messages[0].state), .read)

        decided.lock()
        let posted = decisions.flatMap(\.post)
        let withdrawn = decisions.flatMap(\.withdraw)
        let badges = decisions.map(\.badge)
        decided.unlock()
        XCTAssertEqual(posted.map(\.chatId), [chat.id])
        XCTAssertEqual(posted.first?.body, "hello B, only for you")
        XCTAssertEqual(withdrawn, [chat.id])
        XCTAssertEqual(badges.first, 0)
        XCTAssertEqual(badges.last, 0)
        XCTAssertTrue(badges.contains(1))

        // The notification's Reply action answers from B without opening the app.
        try await NotificationActions.handle(
            action: LocalNotice.replyAction, chatId: chat.id, text: "got it", lichen: b)
        try await waitFor("the reply at a") { convA.snapshot.messages.contains { $0.text == "got it" } }

        convA.stop()
        convB.stop()
        listB.stop()
        await a.shutdown()
        await b.shutdown()
    }

    /// The selection is held by chat id: when new activity moves another chat to the top,
    /// the selected chat changes place and stays selected.
    func testTheSelectionStaysOnTheSameChatWhenTheListReorders() async throws {
        let a = try await newRoot("sel-a")
        let b = try await newRoot("sel-b")
        let c = try await newRoot("sel-c")
        let withB = try await a.chats().withPeople(people: [try b.feedId()])
        let withC = try await a.chats().withPeople(people: [try c.feedId()])
        // The list orders by the newest message's timestamp, which may count whole seconds.
        _ = try await withB.send(text: "to b")
        try await Task.sleep(nanoseconds: 1_100_000_000)
        _ = try await withC.send(text: "to c")
        let list = ChatListModel()
        try list.start(a.chats())
        try await waitFor("both chats listed, c's on top") {
            list.snapshot.items.first?.id == withC.id()
                && list.snapshot.items.contains { $0.id == withB.id() }
        }
        list.select(withC.id())
        XCTAssertEqual(list.snapshot.selectedIndex, 0)

        try await Task.sleep(nanoseconds: 1_100_000_000)
        _ = try await withB.send(text: "to b again")
        try await waitFor("b's chat on top") { list.snapshot.items.first?.id == withB.id() }
        let snap = list.snapshot
        XCTAssertEqual(snap.selectedId, withC.id())
        let at = try XCTUnwrap(snap.selectedIndex)
        XCTAssertGreaterThan(at, 0)
        XCTAssertEqual(snap.items[at].id, withC.id())
        XCTAssertEqual(snap.items[at].preview, "to c")

        list.stop()
        for r in [a, b, c] { await r.shutdown() }
    }

    /// A diff that points outside the list is refused whole; the list stays as it was.
    func testABrokenDiffIsRefusedAndTheListKept() throws {
        let list = ChatListModel()
        let item = ChatListItem(
            id: "x", kind: .notes, title: "Notes", members: [], unread: 2, total: 2,
            lastTimestamp: 1, preview: nil)
        try list.apply([.reset(values: [item])])
        XCTAssertThrowsError(try list.apply([.set(index: 0, value: item), .remove(index: 5)]))
        XCTAssertEqual(list.snapshot.items, [item])
        XCTAssertEqual(list.snapshot.unreadTotal, 2)
    }

    /// Notifications: the first list only sets the badge; a chat on screen is not notified;
    /// previews can be hidden.
    func testNotificationDecisions() {
        func item(_ id: String, _ unread: UInt32) -> ChatListItem {
            ChatListItem(
                id: id, kind: .oneToOne, title: "T" + id, members: [], unread: unread, total: 9,
                lastTimestamp: 1, preview: "secret text")
        }
        var p = NotificationPolicy()
        XCTAssertEqual(p.decide([item("a", 3)], visibleChat: nil), .init(post: [], withdraw: [], badge: 3))
        XCTAssertEqual(p.decide([item("a", 4)], visibleChat: "a").post, [])
        p.showPreview = false
        let d = p.decide([item("a", 5), item("b", 1)], visibleChat: "a")
        XCTAssertEqual(d.post, [LocalNotice(chatId: "b", title: "Tb", body: "New message")])
        XCTAssertEqual(d.badge, 6)
    }
}
