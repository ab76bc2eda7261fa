import Foundation
import Lichen
import XCTest

@testable import LichenLogic

/// Stands in for CBPeripheralManager: `updateValue` refuses every other frame (a full
/// transmit queue) and says it is ready again a moment later; what it sends goes to the
/// other phone's native link.
final class FlakyPort: PeripheralPort, @unchecked Sendable {
    weak var session: PeripheralSession?
    var deliver: ((Data) -> Void)?
    private let lock = NSLock()
    private(set) var refused = 0
    private var calls = 0
    func notify(_ central: String, _ frame: Data) -> Bool {
        let refuse = lock.locked { () -> Bool in
            calls += 1
            if calls % 2 == 0 { refused += 1 }
            return calls % 2 == 0
        }
        if refuse {
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.02) { [weak self] in
                self?.session?.readyToUpdate()
            }
            return false
        }
        deliver?(frame)
        return true
    }
}

/// Phone B's writes into A's RX. A central writes only once its subscription went through:
/// until `subscribed` opens, a write waits (within Lichen's 5 s per frame).
final class B2A: FrameSender, @unchecked Sendable {
    weak var session: PeripheralSession?
    let subscribed = DispatchGroup()
    init() { subscribed.enter() }
    func send(frame: Data) throws -> SendOutcome {
        guard subscribed.wait(timeout: .now() + 4) == .success else {
            return .refused(reason: "not subscribed yet")
        }
        return session?.wrote(central: "phone-b", value: frame) == true ? .sent : .refused(reason: "no link")
    }
}

final class PeripheralTests: XCTestCase {
    /// Phone A is the peripheral (the session), phone B the central (a native link of its
    /// own). Posts cross both ways through refusals; unsubscribing takes the link down.
    func testThePeripheralSessionCarriesBothWaysAndEndsOnUnsubscribe() async throws {
        let a = try await newRoot("per-a")
        let b = try await newRoot("per-b")
        let port = FlakyPort()
        let session = PeripheralSession(links: a.links(), port: port)
        port.session = session
        XCTAssertThrowsError(try session.subscribed(central: "tiny", maximumUpdateValueLength: 20)) {
            guard case LinkError.MtuTooSmall = $0 else { return XCTFail("\($0)") }
        }
        let toA = B2A()
        toA.session = session
        let bLink = try b.links().attachNativeLink(peer: "phone-a", mtu: 185, sender: toA)
        port.deliver = { try? bLink.frameIn(frame: $0) }
        try session.subscribed(central: "phone-b", maximumUpdateValueLength: 182)
        toA.subscribed.leave()
        XCTAssertEqual(session.centrals, ["phone-b"])

        let atB = ConversationModel(b.chats().publicChannel())
        try atB.start()
        let atA = ConversationModel(a.chats().publicChannel())
        try atA.start()
        _ = try await a.chats().sendPublic(text: "from the peripheral")
        _ = try await b.chats().sendPublic(text: "from the central")
        try await waitFor("a's post at b", timeout: 60) {
            atB.snapshot.messages.contains { $0.text == "from the peripheral" }
        }
        try await waitFor("b's post at a", timeout: 60) {
            atA.snapshot.messages.contains { $0.text == "from the central" }
        }
        XCTAssertGreaterThan(port.refused, 0)

        session.unsubscribed(central: "phone-b")
        XCTAssertEqual(session.centrals, [])
        XCTAssertFalse(session.wrote(central: "phone-b", value: Data([1, 2, 3])))
        atA.stop()
        atB.stop()
        bLink.linkDown(reason: "test over")
        await a.shutdown()
        await b.shutdown()
    }
}
