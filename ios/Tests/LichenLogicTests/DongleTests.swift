import Foundation
import Lichen
import XCTest

@testable import LichenLogic

final class DongleTests: XCTestCase {
    /// The dongle screen against the dongle emulator, reached through a Swift central over
    /// the emulator's socket: scan → pair → connected → link lost → reconnecting → connected.
    func testTheDongleScreenWalksPairingAndReconnection() async throws {
        let emu = try DongleEmulator.start(seed: 0xA1A1)
        defer { emu.shutdown() }
        let gatt = EmulatorGatt(addrs: [emu.addr()])
        let session = CentralSession(gatt)
        let builder = LichenBuilder(dataDir: freshDir("dongle"))
        builder.bleCentral(central: session)
        let lichen = try await builder.create()
        let model = DongleModel(dongle: lichen.dongle(), session: session)

        await model.scan(timeoutMs: 800)
        guard case .found(let found) = model.phase else { return XCTFail("\(model.phase)") }
        XCTAssertEqual(found.map(\.name), [emu.name()])
        XCTAssertEqual(found.first?.id, emu.addr())

        await model.pair(emu.name())
        try await waitFor("connected") { model.phase == .connected(mtu: 128) }
        await model.refresh()
        XCTAssertEqual(model.status?.paired.name, emu.name())

        // Out of range: the emulator drops the phone; the library's supervisor retries and
        // the screen shows the link lost, then reconnecting, then connected again.
        let opens = gatt.opens
        emu.setBle(on: false)
        try await waitFor("link lost") { model.phase.name == "linkLost" || model.phase.name == "reconnecting" }
        emu.setBle(on: true)
        try await waitFor("reconnected", timeout: 60) {
            gatt.opens > opens && model.phase == .connected(mtu: 128)
        }
        let walk = ["scanning", "found", "pairing", "connected", "linkLost", "reconnecting", "connected"]
        XCTAssertTrue(isSubsequence(walk, of: model.trail), "\(model.trail)")

        await model.unpair()
        XCTAssertEqual(model.phase, .idle)
        await lichen.shutdown()
    }

    /// Every `DongleError` maps to its own action; the real library's errors arrive mapped.
    func testEveryPairingErrorMapsToItsAction() async throws {
        let table: [(DongleError, PairingAction)] = [
            (.BluetoothOff(reason: "off"), .turnOnBluetooth),
            (.BluetoothAbsent(reason: "none"), .notPossibleHere),
            (.PermissionMissing(reason: "denied"), .openSettings),
            (.DeviceGone(reason: "gone"), .moveCloserAndRetry),
            (.MtuTooSmall(reason: "23"), .updateFirmware),
            (.ServiceMissing(reason: "other firmware"), .chooseAnotherDevice),
            (.Timeout(reason: "slow"), .retry),
            (.NotPaired(reason: "none paired"), .pairFirst),
            (.Unsupported(reason: "no ble"), .notPossibleHere),
            (.Other(reason: "record broken"), .reportProblem),
        ]
        for (e, action) in table {
            let p = PairingProblem(e)
            XCTAssertEqual(p.action, action, "\(e)")
            XCTAssertEqual(p.message, describe(e))
            XCTAssertFalse(p.message.isEmpty)
            XCTAssertFalse(p.actionTitle.isEmpty)
        }

        // From the library: Bluetooth off, nothing paired, a dongle that is not there.
        let gatt = EmulatorGatt(addrs: ["127.0.0.1:1"])
        gatt.adapter = .poweredOff
        let session = CentralSession(gatt)
        let builder = LichenBuilder(dataDir: freshDir("errors"))
        builder.bleCentral(central: session)
        let lichen = try await builder.create()
        let model = DongleModel(dongle: lichen.dongle(), session: session)
        await model.scan(timeoutMs: 100)
        XCTAssertEqual(failure(model)?.action, .turnOnBluetooth)
        gatt.adapter = .unauthorized
        await model.scan(timeoutMs: 100)
        XCTAssertEqual(failure(model)?.action, .openSettings)
        gatt.adapter = .poweredOn
        await model.unpair()
        XCTAssertEqual(failure(model)?.action, .pairFirst)
        await model.pair("127.0.0.1:1")
        let gone = try XCTUnwrap(failure(model))
        XCTAssertEqual(gone.action, .moveCloserAndRetry, gone.message)

        // Without a central the build cannot reach dongles at all.
        let bare = try await newRoot("bare")
        let none = DongleModel(dongle: bare.dongle(), session: nil)
        await none.scan(timeoutMs: 100)
        XCTAssertEqual(failure(none)?.action, .notPossibleHere)
        await lichen.shutdown()
        await bare.shutdown()
    }

    /// The wire helpers refuse short or lying frames instead of reading past them.
    func testTheEmulatorWireRefusesMalformedFrames() {
        XCTAssertNil(EmulatorGatt.parseAdvert([]))
        XCTAssertNil(EmulatorGatt.parseAdvert([0xC4, 10, 65]))
        XCTAssertNil(EmulatorGatt.parseAdvert([0xC4, 1, 65, 3] + [UInt8](repeating: 0, count: 16)))
        XCTAssertEqual(EmulatorGatt.parseServices([5, 1, 2]), [:])
        XCTAssertEqual(EmulatorGatt.uuid(TinySSB.service).count, 16)
    }
}

private func failure(_ m: DongleModel) -> PairingProblem? {
    if case .failed(let p) = m.phase { return p }
    return nil
}

func isSubsequence(_ want: [String], of got: [String]) -> Bool {
    var i = want.startIndex
    for g in got where i < want.endIndex && g == want[i] { i += 1 }
    return i == want.endIndex
}
