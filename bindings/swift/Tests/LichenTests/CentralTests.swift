// A foreign BLE central written in Swift (SocketCentral), backed by the dongle emulator's
// socket, drives Lichen's pairing and its reconnecting supervisor; a message crosses the
// emulated LoRa channel to a second node.
import Foundation
import Lichen
import XCTest

final class CentralTests: XCTestCase {
    var tmp: TempDir!

    override func setUpWithError() throws { tmp = try TempDir() }
    override func tearDown() { tmp.cleanup() }

    func testASwiftCentralPairsReconnectsAndReachesASecondNodeOverLora() async throws {
        let air = try EmulatedAir(seed: 11, loss: 0.0)
        let da = try DongleEmulator.onAir(air: air, seed: 0xA1A1)
        let db = try DongleEmulator.onAir(air: air, seed: 0xB2B2)
        defer {
            da.shutdown()
            db.shutdown()
        }
        let central = SocketCentral([da.addr()])
        let ba = LichenBuilder(dataDir: tmp.path("a"))
        ba.bleCentral(central: central)
        let a = try await ba.create()
        let bb = LichenBuilder(dataDir: tmp.path("b"))
        bb.dongleEmulator(addrs: db.addr())
        let b = try await bb.create()
        do {
            let found = try await a.dongle().scan(timeoutMs: 800)
            XCTAssertEqual(found.map { $0.id }, [da.addr()])
            XCTAssertEqual(found.map { $0.name }, [da.name()])
            let paired = try await a.dongle().pair(id: da.name())
            XCTAssertEqual(paired.name, da.name())
            _ = try await b.dongle().pair(id: db.name())
            let pubB = b.chats().publicChannel()
            let tl = TimelineRecorder()
            let h = try pubB.subscribe(listener: tl, pageSize: 50)
            func texts() -> [String] { tl.timeline.snapshot.compactMap { $0.text } }

            _ = try await a.chats().sendPublic(text: "hello over LoRa")
            try await waitUntil("A's post at B", timeout: 120) { texts().contains("hello over LoRa") }
            let st = try await a.dongle().status()
            XCTAssertEqual(st.link?.mtu, 128)

            // The emulator drops the phone (out of range): the supervisor reconnects on its
            // own once it is back, and what was written meanwhile arrives.
            let opens = central.opens
            da.setBle(on: false)
            _ = try await a.chats().sendPublic(text: "written while cut off")
            try await Task.sleep(nanoseconds: 2_000_000_000)
            XCTAssertFalse(texts().contains("written while cut off"))
            da.setBle(on: true)
            try await waitUntil("reconnected", timeout: 60) { central.opens > opens }
            try await waitUntil("the catch-up at B", timeout: 180) {
                texts().contains("written while cut off")
            }
            h.cancel()
        } catch {
            await a.shutdown()
            await b.shutdown()
            throw error
        }
        await a.shutdown()
        await b.shutdown()
    }

    /// A central whose adapter is off, then whose scanner and open throw something that is
    /// not one of Lichen's errors: each is a DongleError, never a crash.
    func testAFailingCentralGivesErrorsNotCrashes() async throws {
        let c = Refusing()
        let bld = LichenBuilder(dataDir: tmp.path("a"))
        bld.bleCentral(central: c)
        let a = try await bld.create()
        do {
            do {
                _ = try await a.dongle().scan(timeoutMs: 100)
                XCTFail("scanned with Bluetooth off")
            } catch let e as DongleError {
                guard case .BluetoothOff = e else { return XCTFail("wrong variant: \(e)") }
            }
            c.set(state: .poweredOn)
            do {
                _ = try await a.dongle().scan(timeoutMs: 100)
                XCTFail("a crashed scanner found something")
            } catch let e as DongleError {
                guard case .Other(let reason) = e else { return XCTFail("wrong variant: \(e)") }
                XCTAssertTrue(reason.contains("scanner crashed"), reason)
            }
            c.set(crash: false)
            do {
                _ = try await a.dongle().pair(id: "127.0.0.1:1")
                XCTFail("paired a dead dongle")
            } catch let e as DongleError {
                guard case .Other(let reason) = e else { return XCTFail("wrong variant: \(e)") }
                XCTAssertTrue(reason.contains("something unexpected"), reason)
            }
        } catch {
            await a.shutdown()
            throw error
        }
        await a.shutdown()
    }
}

struct Unexpected: Error, CustomStringConvertible {
    let description: String
}

final class Refusing: BleCentral, @unchecked Sendable {
    private let lock = NSLock()
    private var state = AdapterState.poweredOff
    private var crash = true

    func set(state: AdapterState) { lock.lock(); self.state = state; lock.unlock() }
    func set(crash: Bool) { lock.lock(); self.crash = crash; lock.unlock() }

    func adapterState() -> AdapterState { lock.lock(); defer { lock.unlock() }; return state }

    func startScan(sink: ScanSink) throws {
        lock.lock()
        let crash = self.crash
        lock.unlock()
        if crash { throw Unexpected(description: "the platform scanner crashed") }
        sink.found(deviceId: "127.0.0.1:1", name: "tinySSB-dead", rssi: -50)
    }

    func stopScan() {}

    func connect(deviceId: String, sink: GattSink) throws -> UInt32 {
        throw Unexpected(description: "something unexpected")
    }

    func write(deviceId: String, value: Data) throws { throw Unexpected(description: "never") }

    func close(deviceId: String) {}
}
