// No exported call holds its caller's thread for more than 50 ms, whether the link is slow or
// a foreign callback is: the async calls return control, the synchronous ones are cheap.
// Each test runs its calls on an executor of one thread (OneThread) beside a ticker every
// 10 ms. The bindings poll Rust futures on the calling task's executor, so a call that held
// the thread shows as a long job there (and the ticker would stall behind it).
import Foundation
import Lichen
import XCTest

import Glibc

final class BlockingTests: XCTestCase {
    var tmp: TempDir!
    var one: OneThread!

    override func setUpWithError() throws {
        tmp = try TempDir()
        one = OneThread()
    }

    override func tearDown() {
        one.stop()
        tmp.cleanup()
    }

    /// Runs `body` on the one thread with the ticker beside it; returns the ticker.
    func onOneThread(_ body: () async throws -> Void) async throws -> Ticker {
        let ticker = Ticker()
        try await withTaskExecutorPreference(one) {
            async let ticking: Void = ticker.run()
            do {
                try await body()
            } catch {
                ticker.finish()
                await ticking
                throw error
            }
            ticker.finish()
            await ticking
        }
        return ticker
    }

    /// A peer that accepts TCP and never answers the WebSocket handshake: the dial returns
    /// control at once, the ticker keeps ticking, and the dial ends with Timeout.
    func testASlowDialReturnsControlAtOnceAndTimesOut() async throws {
        let silent = try SilentServer()
        defer { silent.stop() }
        let a = try await create(tmp.path("a"))
        var took = 0.0
        let ticker = try await onOneThread {
            let started = monotonic()
            do {
                _ = try await a.links().dialWs(url: "ws://127.0.0.1:\(silent.port)", timeoutMs: 1500)
                XCTFail("a silent peer was linked")
            } catch let e as LinkError {
                guard case .Timeout(let reason) = e else { return XCTFail("wrong variant: \(e)") }
                XCTAssertTrue(reason.contains("did not answer within 1500 ms"), reason)
            }
            took = monotonic() - started
        }
        await a.shutdown()
        print("slow dial: returned after \(ms(took)); thread held \(ms(one.longestJob)) at most",
              "over \(one.jobsRun) jobs; \(ticker.ticks) ticks, longest gap \(ms(ticker.longest))")
        XCTAssertTrue(took > 1.4 && took < 10, "the dial took \(took) s")
        XCTAssertLessThan(one.longestJob, 0.05, "the thread was held \(one.longestJob) s")
        XCTAssertGreaterThan(ticker.ticks, 20, "the ticker did not run meanwhile")
    }

    /// A timeline listener that takes 1.5 s per call (a stuck UI) and a central whose every
    /// call takes 1 s: subscribing is cheap, sending and reading return, scanning and pairing
    /// run on their own, and the caller's thread is never held.
    func testSlowForeignCallbacksDoNotHoldTheCaller() async throws {
        let slowCentral = SlowCentral()
        let bld = LichenBuilder(dataDir: tmp.path("a"))
        bld.bleCentral(central: slowCentral)
        let a = try await bld.create()
        let slowUI = SlowListener()
        var slowestSync = 0.0
        let ticker = try await onOneThread {
            let (pub, t1) = timed { a.chats().publicChannel() }
            let (handle, t2) = try timed { try pub.subscribe(listener: slowUI, pageSize: 10) }
            try await waitUntil("the listener to be called") { slowUI.calls >= 1 }
            for i in 0..<3 {
                _ = try await pub.send(text: "post \(i) while the UI is stuck")
            }
            let page = try await pub.page(before: nil, limit: 10)
            XCTAssertEqual(page.messages.count, 3)
            let (conv, t3) = try timed { try a.chats().conversation(chatId: pub.id()) }
            XCTAssertEqual(conv.id(), pub.id())
            _ = try await a.chats().list()
            let found = try await a.dongle().scan(timeoutMs: 200)
            XCTAssertEqual(found.map { $0.name }, ["tinySSB-slow"])
            do {
                _ = try await a.dongle().pair(id: "tinySSB-slow")
                XCTFail("paired a dongle whose open fails")
            } catch let e as DongleError {
                _ = e
            }
            let (_, t4) = timed { handle.cancel() }
            slowestSync = [t1, t2, t3, t4].max() ?? 0
        }
        XCTAssertGreaterThanOrEqual(slowCentral.calls, 2)
        await a.shutdown()
        print("slow callbacks: slowest synchronous call \(ms(slowestSync));",
              "thread held \(ms(one.longestJob)) at most over \(one.jobsRun) jobs;",
              "\(ticker.ticks) ticks, longest gap \(ms(ticker.longest))")
        XCTAssertLessThan(slowestSync, 0.05, "a synchronous call took \(slowestSync) s")
        XCTAssertLessThan(one.longestJob, 0.05, "the thread was held \(one.longestJob) s")
        XCTAssertGreaterThan(ticker.ticks, 50, "the ticker did not run meanwhile")
    }

    /// A native link whose sender never returns (a GATT stack that stopped answering):
    /// attaching is cheap and frames written to us are still taken, never hung on.
    func testAHungNativeSenderDoesNotHoldTheCaller() async throws {
        let a = try await create(tmp.path("a"))
        let hung = HungSender()
        defer { hung.release() }
        let (link, attach) = try timed {
            try a.links().attachNativeLink(peer: "phone-h", mtu: 128, sender: hung)
        }
        XCTAssertLessThan(attach, 0.05, "attaching took \(attach) s")
        try await waitUntil("the first send", timeout: 10) { hung.calls >= 1 }
        var slowest = 0.0
        let end = monotonic() + 3
        while monotonic() < end {
            let start = monotonic()
            do { try link.frameIn(frame: Data(count: 120)) } catch LinkError.LinkDown {}
            slowest = max(slowest, monotonic() - start)
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        print("hung sender: attach took \(ms(attach)), slowest frame_in \(ms(slowest))")
        // frame_in may wait briefly while the node catches up (it is the write's answer).
        XCTAssertLessThan(slowest, 2.0, "frame_in waited \(slowest) s behind a stuck send")
        hung.release()
        await a.shutdown()
    }
}

final class SlowListener: TimelineListener, @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var calls: Int { lock.lock(); defer { lock.unlock() }; return n }

    func onUpdate(diffs: [TimelineDiff]) throws {
        lock.lock()
        n += 1
        lock.unlock()
        Thread.sleep(forTimeInterval: 1.5)
    }
}

/// Every call takes a second; it finds one dongle and cannot open it.
final class SlowCentral: BleCentral, @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var calls: Int { lock.lock(); defer { lock.unlock() }; return n }

    private func slow() {
        lock.lock()
        n += 1
        lock.unlock()
        Thread.sleep(forTimeInterval: 1.0)
    }

    func adapterState() -> AdapterState { .poweredOn }
    func startScan(sink: ScanSink) throws {
        slow()
        sink.found(deviceId: "slow-1", name: "tinySSB-slow", rssi: -40)
    }
    func stopScan() {}
    func connect(deviceId: String, sink: GattSink) throws -> UInt32 {
        slow()
        throw OpenError.DeviceGone(reason: "too slow")
    }
    func write(deviceId: String, value: Data) throws {}
    func close(deviceId: String) {}
}

final class HungSender: FrameSender, @unchecked Sendable {
    private let cond = NSCondition()
    private var released = false
    private var n = 0
    var calls: Int { cond.lock(); defer { cond.unlock() }; return n }

    func send(frame: Data) throws -> SendOutcome {
        cond.lock()
        n += 1
        let until = Date().addingTimeInterval(120)
        while !released && cond.wait(until: until) {}
        cond.unlock()
        return .refused(reason: "released")
    }

    func release() {
        cond.lock()
        released = true
        cond.broadcast()
        cond.unlock()
    }
}

/// Accepts TCP connections on 127.0.0.1 and never says a word.
final class SilentServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    private let lock = NSLock()
    private var held: [Int32] = []

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        sa.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, len) == 0 && listen(fd, 8) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard bound else {
            close(fd)
            throw WireError(description: "silent server: errno \(errno)")
        }
        self.fd = fd
        port = UInt16(bigEndian: sa.sin_port)
        Thread { [self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 {
                    close(fd)
                    return
                }
                lock.lock()
                held.append(c)
                lock.unlock()
            }
        }.start()
    }

    func stop() {
        _ = shutdown(fd, Int32(SHUT_RDWR))
        lock.lock()
        for c in held { close(c) }
        held = []
        lock.unlock()
    }
}
