// The root object through the Swift binding: two roots in temp dirs, linked over WebSocket
// loopback on real sockets, real sled stores, the real liblichen_ffi.
import Foundation
import Lichen
import XCTest

final class AppTests: XCTestCase {
    var tmp: TempDir!

    override func setUpWithError() throws { tmp = try TempDir() }
    override func tearDown() { tmp.cleanup() }

    func testAPrivateMessageGoesFromWrittenToRead() async throws {
        let a = try await create(tmp.path("a"))
        let b = try await create(tmp.path("b"))
        do {
            let (aId, bId) = (try a.feedId(), try b.feedId())
            // A's conversation with B, watched before anything is written.
            let convA = try await a.chats().withPeople(people: [bId])
            let tlA = TimelineRecorder()
            let hTlA = try convA.subscribe(listener: tlA, pageSize: 50)
            try await waitUntil("a's first reset") { tlA.timeline.resets == 1 }
            XCTAssertTrue(tlA.timeline.snapshot.isEmpty)
            let lstB = ListRecorder()
            let hLstB = try b.chats().subscribe(listener: lstB)
            try await waitUntil("b's first reset") { lstB.list.resets == 1 }
            XCTAssertEqual(Set(lstB.list.snapshot.map { $0.kind }), [.`public`, .notes])

            // Written while no link is up: it stays "written".
            let sent = try await convA.send(text: "hello B, only for you")
            XCTAssertEqual(sent.state, .written)
            XCTAssertTrue(sent.mine)
            XCTAssertEqual(sent.chatId, convA.id())
            try await waitUntil("a's append") { tlA.timeline.snapshot.count == 1 }
            XCTAssertEqual(tlA.timeline.diffKinds, ["reset", "append"])
            XCTAssertEqual(tlA.timeline.snapshot.first?.state, .written)

            // Link them over loopback: B listens on a port of its own, A dials it.
            let listener = try await b.links().listenWs(addr: "127.0.0.1:0")
            XCTAssertTrue(listener.url().hasPrefix("ws://127.0.0.1:"), listener.url())
            let link = try await a.links().dialWs(url: listener.url(), timeoutMs: 5000)
            XCTAssertEqual(link.kind(), "ws")

            // B's chat list shows the chat with unread 1 and the text as preview.
            func bChat() -> ChatListItem? {
                lstB.list.snapshot.first { $0.kind == .oneToOne }
            }
            let chat = try await waitFor("the chat at b, unread 1") {
                bChat().flatMap { $0.unread == 1 ? $0 : nil }
            }
            XCTAssertEqual(chat.preview, "hello B, only for you")
            XCTAssertEqual(chat.members.sorted(), [aId, bId].sorted())
            XCTAssertEqual(chat.id, convA.id())

            // B's timeline gets it.
            let convB = try b.chats().conversation(chatId: chat.id)
            let tlB = TimelineRecorder()
            let hTlB = try convB.subscribe(listener: tlB, pageSize: 50)
            let got = try await waitFor("b's timeline") {
                tlB.timeline.snapshot.isEmpty ? nil : tlB.timeline.snapshot
            }
            XCTAssertEqual(got.map { $0.text }, ["hello B, only for you"])
            XCTAssertEqual(got.map { $0.mine }, [false])
            XCTAssertEqual(got.map { $0.author }, [aId])

            // Delivered (B's device confirms) before read; B reads it.
            try await waitUntil("delivered") { tlA.timeline.snapshot.first?.state == .delivered }
            try await convB.markRead()
            try await waitUntil("b's unread to drop") { bChat()?.unread == 0 }
            try await waitUntil("read") { tlA.timeline.snapshot.first?.state == .read }

            // A saw each state as a Set of the one item, in order, after its first Reset.
            XCTAssertEqual(tlA.timeline.diffKinds.first, "reset")
            let sets = tlA.timeline.setUpdates
            XCTAssertEqual(sets.map { $0.0 }, [0, 0, 0, 0])
            XCTAssertEqual(sets.map { $0.1.state }, [.sent, .stored, .delivered, .read])
            XCTAssertTrue(sets.allSatisfy { $0.1.id == sent.id })

            // The list is plain records, readable without a listener too.
            let listed = try await b.chats().list()
            XCTAssertEqual(listed.filter { $0.id == chat.id }.map { $0.unread }, [0])
            for h in [hTlA, hLstB, hTlB] { h.cancel() }
        } catch {
            await a.shutdown()
            await b.shutdown()
            throw error
        }
        await a.shutdown()
        await b.shutdown()
    }

    /// Each bad input is Swift's own error, of the right type and variant, with its message.
    func testBadReferencesThrowTheirVariant() async throws {
        let a = try await create(tmp.path("a"))
        let chats = a.chats()
        do {
            _ = try chats.conversation(chatId: "not a chat")
            XCTFail("a bad chat id was accepted")
        } catch let e as ChatError {
            guard case .BadReference(let reason) = e else {
                return XCTFail("wrong variant: \(e)")
            }
            XCTAssertTrue(reason.contains("not a chat id"), reason)
        }
        await expectChatError("a bad message id", "BadReference") {
            _ = try await chats.message(id: "%%%")
        }
        await expectChatError("a bad cursor", "BadReference") {
            _ = try await chats.publicChannel().page(before: "zz", limit: 10)
        }
        let why = await expectChatError("an unknown contact", "UnknownContact") {
            _ = try await chats.sendTo(people: ["nobody-by-that-name"], text: "hi")
        }
        XCTAssertTrue(why.contains("nobody-by-that-name"), why)
        await expectChatError("an empty post", "Invalid") {
            _ = try await chats.sendPublic(text: "")
        }
        do {
            _ = try await a.links().dialWs(url: "http://example.invalid", timeoutMs: 100)
            XCTFail("an http url was dialled")
        } catch let e as LinkError {
            guard case .BadAddress = e else { return XCTFail("wrong variant: \(e)") }
        }
        do {
            _ = try await a.links().listenWs(addr: "not an address")
            XCTFail("a bad address was listened on")
        } catch let e as LinkError {
            guard case .BadAddress = e else { return XCTFail("wrong variant: \(e)") }
        }
        await a.shutdown()

        // A stopped root says so; opening twice, or nothing, or a bad key is refused.
        await expectChatError("a stopped root", "Stopped") {
            _ = try await a.chats().list()
        }
        do {
            _ = try await LichenBuilder(dataDir: tmp.path("a")).create()
            XCTFail("created twice")
        } catch let e as SetupError {
            guard case .Exists = e else { return XCTFail("wrong variant: \(e)") }
        }
        do {
            _ = try await LichenBuilder(dataDir: tmp.path("nothing")).open()
            XCTFail("opened nothing")
        } catch let e as SetupError {
            guard case .NoData = e else { return XCTFail("wrong variant: \(e)") }
        }
        do {
            _ = try await LichenBuilder(dataDir: tmp.path("c")).importKey(keyFile: "{}", keyIs: .new)
            XCTFail("imported an empty key")
        } catch let e as SetupError {
            guard case .BadKey = e else { return XCTFail("wrong variant: \(e)") }
        }
    }

    func testFunctionsAndTheirErrors() throws {
        let forms = try feedIdForms(
            text: "did:ssb:ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=")
        XCTAssertEqual(
            forms.hex, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
        XCTAssertEqual(forms.short, "AOQQP-P7TZY")
        XCTAssertThrowsError(try feedIdForms(text: "not a feed")) { e in
            guard case LichenError.InvalidInput(let reason) = e else {
                return XCTFail("wrong error: \(e)")
            }
            XCTAssertTrue(reason.contains("not a feed id"), reason)
        }
        let short = inspectPacket(bytes: Data([1, 2]))
        XCTAssertEqual(short.kind, "unknown")
        XCTAssertEqual(short.valid, false)
        XCTAssertFalse(lichenVersion().isEmpty)
    }

    /// Runs `call`, which must throw the ChatError `variant`; returns its reason.
    @discardableResult
    func expectChatError(
        _ what: String, _ variant: String, _ call: () async throws -> Void
    ) async -> String {
        do {
            try await call()
            XCTFail("\(what) was accepted")
        } catch let e as ChatError {
            let (name, reason) = named(e)
            XCTAssertEqual(name, variant, "\(what): \(reason)")
            return reason
        } catch {
            XCTFail("\(what): not a ChatError but \(type(of: error)): \(error)")
        }
        return ""
    }

    /// The variant's name and its reason (a switch, so a new variant must be named here).
    func named(_ e: ChatError) -> (String, String) {
        switch e {
        case .BadReference(let r): ("BadReference", r)
        case .UnknownContact(let r): ("UnknownContact", r)
        case .AmbiguousContact(let r): ("AmbiguousContact", r)
        case .NotAMember(let r): ("NotAMember", r)
        case .SigningHeld(let r): ("SigningHeld", r)
        case .Invalid(let r): ("Invalid", r)
        case .Failed(let r): ("Failed", r)
        case .Stopped(let r): ("Stopped", r)
        }
    }
}
