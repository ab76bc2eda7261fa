// A foreign BLE central written in Swift over the dongle emulator's socket: GATT over TCP
// (core/src/ble/gatt_wire.rs), the operations an iOS app performs with CBCentralManager.
// Each message is `length (u16 BE) ‖ type (u8) ‖ body`, the length counting type and body.
import Foundation
import Lichen

// Linux only (Glibc); an iOS app has CoreBluetooth instead of this.
import Glibc

enum Gatt {
    static let service = uuid("6e400001-7646-4b5b-9a50-71becce51558")
    static let rx = uuid("6e400002-7646-4b5b-9a50-71becce51558")
    static let tx = uuid("6e400003-7646-4b5b-9a50-71becce51558")
    static let propWrite: UInt8 = 0x08
    static let propNotify: UInt8 = 0x10
    static let scan: UInt8 = 1, advert: UInt8 = 2, mtuReq: UInt8 = 3, mtuRsp: UInt8 = 4
    static let discover: UInt8 = 5, services: UInt8 = 6, subscribe: UInt8 = 7, write: UInt8 = 8
    static let writeRsp: UInt8 = 9, notify: UInt8 = 10, busy: UInt8 = 11

    /// The 16 bytes of a UUID, big-endian, as the wire carries it.
    static func uuid(_ text: String) -> [UInt8] {
        let hex = Array(text.replacingOccurrences(of: "-", with: ""))
        return stride(from: 0, to: hex.count, by: 2).map {
            UInt8(String(hex[$0...$0 + 1]), radix: 16) ?? 0
        }
    }
}

struct WireError: Error, CustomStringConvertible {
    let description: String
}

/// A TCP connection to the emulator, blocking reads and writes.
final class Wire: @unchecked Sendable {
    let fd: Int32

    /// Connects to `host:port` (IPv4), with reads that give up after `timeout` seconds.
    init(_ addr: String, timeout: Int) throws {
        guard let colon = addr.lastIndex(of: ":"),
            let port = UInt16(addr[addr.index(after: colon)...])
        else { throw WireError(description: "bad address \(addr)") }
        let host = String(addr[..<colon])
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WireError(description: "socket: errno \(errno)") }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &sa.sin_addr) == 1 else {
            close(fd)
            throw WireError(description: "bad host \(host)")
        }
        let ok = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard ok == 0 else {
            let e = errno
            close(fd)
            throw WireError(description: "connect \(addr): \(String(cString: strerror(e)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        setTimeout(timeout)
    }

    /// Reads give up after `seconds` (0: never).
    func setTimeout(_ seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ type: UInt8, _ body: [UInt8] = []) throws {
        let n = UInt16(body.count + 1)
        var frame: [UInt8] = [UInt8(n >> 8), UInt8(n & 0xff), type]
        frame += body
        var off = 0
        while off < frame.count {
            let sent = frame[off...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { throw WireError(description: "send: \(String(cString: strerror(errno)))") }
            off += sent
        }
    }

    private func readExact(_ n: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: n)
        var off = 0
        while off < n {
            let got = buf[off...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got == 0 { throw WireError(description: "closed") }
            if got < 0 { throw WireError(description: "recv: \(String(cString: strerror(errno)))") }
            off += got
        }
        return buf
    }

    func read() throws -> (UInt8, [UInt8]) {
        let head = try readExact(2)
        let n = Int(head[0]) << 8 | Int(head[1])
        guard n >= 1 else { throw WireError(description: "empty message") }
        let frame = try readExact(n)
        return (frame[0], Array(frame[1...]))
    }

    /// Wakes a blocked reader (it sees the end of the stream).
    func shutdownBoth() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    deinit { close(fd) }
}

/// A small blocking queue: the reader thread hands write answers to the writer.
final class Answers: @unchecked Sendable {
    private let cond = NSCondition()
    private var items: [UInt8?] = []

    func put(_ v: UInt8?) { cond.lock(); items.append(v); cond.signal(); cond.unlock() }

    /// The next answer; nil inside when the link was lost; nil outside on timeout.
    func get(timeout: Double) -> UInt8?? {
        cond.lock()
        defer { cond.unlock() }
        let until = Date().addingTimeInterval(timeout)
        while items.isEmpty { if !cond.wait(until: until) { return nil } }
        return items.removeFirst()
    }
}

func parseAdvert(_ b: [UInt8]) -> (name: String, rssi: Int16, services: [[UInt8]])? {
    guard b.count >= 2 else { return nil }
    let rssi = Int16(Int8(bitPattern: b[0]))
    let n = Int(b[1])
    guard b.count >= 3 + n else { return nil }
    let name = String(decoding: b[2..<2 + n], as: UTF8.self)
    let count = Int(b[2 + n])
    guard b.count >= 3 + n + 16 * count else { return nil }
    let services = (0..<count).map { Array(b[3 + n + 16 * $0..<3 + n + 16 * ($0 + 1)]) }
    return (name, rssi, services)
}

/// Service UUID → (characteristic UUID → properties).
func parseServices(_ b: [UInt8]) -> [[UInt8]: [[UInt8]: UInt8]]? {
    guard let count = b.first else { return nil }
    var out: [[UInt8]: [[UInt8]: UInt8]] = [:]
    var i = 1
    for _ in 0..<count {
        guard b.count >= i + 17 else { return nil }
        let uuid = Array(b[i..<i + 16])
        let n = Int(b[i + 16])
        i += 17
        var chars: [[UInt8]: UInt8] = [:]
        for _ in 0..<n {
            guard b.count >= i + 17 else { return nil }
            chars[Array(b[i..<i + 16])] = b[i + 16]
            i += 17
        }
        out[uuid] = chars
    }
    return out
}

/// One open connection: its reader thread passes notifications to Lichen's sink.
final class Device: @unchecked Sendable {
    let wire: Wire
    let sink: GattSink
    let answers = Answers()

    init(_ wire: Wire, _ sink: GattSink) {
        self.wire = wire
        self.sink = sink
    }

    func startReading() {
        Thread { [self] in
            var why = "the dongle closed the connection"
            do {
                while true {
                    let (type, body) = try wire.read()
                    if type == Gatt.notify && body.count >= 16 && Array(body[0..<16]) == Gatt.tx {
                        sink.notified(value: Data(body[16...]))
                    } else if type == Gatt.writeRsp, let code = body.first {
                        answers.put(code)
                    }
                }
            } catch {
                why = "link lost: \(error)"
            }
            answers.put(nil)
            sink.disconnected(reason: why)
        }.start()
    }
}

/// What an iOS app implements with CBCentralManager / CBPeripheral, here over the socket.
final class SocketCentral: BleCentral, @unchecked Sendable {
    let addrs: [String]
    private let lock = NSLock()
    private var devices: [String: Device] = [:]
    private var openCount = 0

    init(_ addrs: [String]) { self.addrs = addrs }

    var opens: Int { lock.lock(); defer { lock.unlock() }; return openCount }

    func adapterState() -> AdapterState { .poweredOn }

    func startScan(sink: ScanSink) throws {
        let addrs = self.addrs
        Thread {
            for a in addrs {
                guard let w = try? Wire(a, timeout: 1) else { continue }
                guard (try? w.send(Gatt.scan)) != nil, let (type, body) = try? w.read(),
                    type == Gatt.advert, let ad = parseAdvert(body)
                else { continue }
                if ad.services.contains(Gatt.service) {
                    sink.found(deviceId: a, name: ad.name, rssi: ad.rssi)
                }
            }
        }.start()
    }

    func stopScan() {}

    func connect(deviceId: String, sink: GattSink) throws -> UInt32 {
        let w: Wire
        let mtu: UInt32
        do {
            w = try Wire(deviceId, timeout: 3)
            func ask(_ type: UInt8, _ body: [UInt8] = []) throws -> (UInt8, [UInt8]) {
                try w.send(type, body)
                let got = try w.read()
                if got.0 == Gatt.busy { throw OpenError.DeviceGone(reason: "busy") }
                return got
            }
            let (_, m) = try ask(Gatt.mtuReq, [0, 128])
            guard m.count == 2 else { throw OpenError.Failed(reason: "bad MTU answer") }
            mtu = min(UInt32(m[0]) << 8 | UInt32(m[1]), 128)
            let (_, s) = try ask(Gatt.discover)
            guard let chars = parseServices(s)?[Gatt.service] else {
                throw OpenError.ServiceMissing(missing: "tinySSB service")
            }
            guard (chars[Gatt.rx] ?? 0) & Gatt.propWrite != 0,
                (chars[Gatt.tx] ?? 0) & Gatt.propNotify != 0
            else { throw OpenError.ServiceMissing(missing: "RX/TX characteristics") }
            let (t, r) = try ask(Gatt.subscribe, Gatt.tx)
            guard t == Gatt.writeRsp, r.first == 0 else {
                throw OpenError.Failed(reason: "subscription refused")
            }
            w.setTimeout(0)
        } catch let e as WireError {
            throw OpenError.DeviceGone(reason: e.description)
        }
        let d = Device(w, sink)
        lock.lock()
        devices[deviceId] = d
        openCount += 1
        lock.unlock()
        d.startReading()
        return mtu
    }

    func write(deviceId: String, value: Data) throws {
        lock.lock()
        let d = devices[deviceId]
        lock.unlock()
        guard let d else { throw CallbackError.Failed(reason: "not connected") }
        do {
            try d.wire.send(Gatt.write, Gatt.rx + [UInt8](value))
        } catch {
            throw CallbackError.Failed(reason: "\(error)")
        }
        switch d.answers.get(timeout: 5) {
        case .none: throw CallbackError.Failed(reason: "no answer within 5 s")
        case .some(.none): throw CallbackError.Failed(reason: "link lost")
        case .some(.some(0)): return
        case .some(.some(let code)): throw CallbackError.Failed(reason: "ATT error \(code)")
        }
    }

    func close(deviceId: String) {
        lock.lock()
        let d = devices.removeValue(forKey: deviceId)
        lock.unlock()
        d?.wire.shutdownBoth()
    }
}
