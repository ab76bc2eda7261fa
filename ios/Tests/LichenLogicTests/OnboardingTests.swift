import Foundation
import Lichen
import XCTest

@testable import LichenLogic

final class OnboardingTests: XCTestCase {
    /// From an empty data directory to the chat list: welcome, a new identity with a name,
    /// the permissions one at a time, then the list holding the public channel and notes.
    func testFromNothingToTheChatList() async throws {
        let dir = freshDir("onboard")
        let asker = ScriptedAsker([.bluetooth: .granted, .notifications: .denied])
        let model = OnboardingModel(dataDir: dir, asker: asker)
        await model.launch()
        XCTAssertEqual(model.step, .welcome)
        await model.createNew(name: "Ada")
        XCTAssertEqual(
            model.trail,
            [.opening, .welcome, .working, .permissions(.bluetooth), .permissions(.notifications), .done])
        XCTAssertEqual(asker.asked, [.bluetooth, .notifications])
        XCTAssertEqual(model.answers, [.bluetooth: .granted, .notifications: .denied])
        let lichen = try XCTUnwrap(model.lichen)
        XCTAssertEqual(try lichen.settings().get().displayName, "Ada")

        let list = ChatListModel()
        try list.start(lichen.chats())
        let items = try await waitFor("the first list") { list.resetCount == 1 ? list.snapshot.items : nil }
        XCTAssertEqual(Set(items.map(\.kind)), [.public, .notes])
        XCTAssertEqual(list.snapshot.unreadTotal, 0)
        list.stop()
        let backup = try await lichen.backup().export()
        await lichen.shutdown()

        // The next launch opens it straight to the chat list, asking nothing.
        let again = OnboardingModel(dataDir: dir, asker: asker)
        await again.launch()
        XCTAssertEqual(again.trail, [.opening, .done])
        XCTAssertEqual(asker.asked.count, 2)
        await again.lichen?.shutdown()

        // Restoring that backup on a new phone warns about forks before anything else.
        let restored = OnboardingModel(dataDir: freshDir("restore"), asker: ScriptedAsker([:]))
        await restored.launch()
        await restored.restore(backup: backup)
        XCTAssertEqual(restored.step, .forkWarning(OnboardingModel.forkWarningText))
        XCTAssertEqual(try restored.lichen?.keyState(), .unrecovered)
        await restored.acceptForkWarning()
        XCTAssertEqual(restored.step, .done)
        await restored.lichen?.shutdown()

        // A bad backup is a message for the person and a way back, never a crash.
        let bad = OnboardingModel(dataDir: freshDir("bad"), asker: ScriptedAsker([:]))
        await bad.restore(backup: "not a backup")
        guard case .failed(let why) = bad.step else { return XCTFail("\(bad.step)") }
        XCTAssertFalse(why.isEmpty)
        bad.startOver()
        XCTAssertEqual(bad.step, .welcome)
    }
}
