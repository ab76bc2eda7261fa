import Foundation
import Lichen

#if canImport(Glibc)
    import Glibc
    private let streamSocket = Int32(SOCK_STREAM.rawValue)
#else
    import Darwin
    private let streamSocket = SOCK_STREAM
#endif

/// A `GattPort` over the dongle emulator's TCP socket (`DongleEmulator`; the wire format of
/// `core/src/ble/gatt_wire.rs`: a big-endian u16 length, a type byte, the body). It performs
/// the operations CoreBluetooth performs against a real dongle, so the central session and
/// the dongle screen run unchanged against an emulated dongle (tests; the simulator, which
/// has no Bluetooth). Device ids are `host:port`; only IPv4 literals are dialled.
public final class EmulatorGatt: GattPort {
    enum T: UInt8 {
        case scan = 1, advert, mtuReq, mtuRsp, discover, services, subscribe, write, writeRsp,
            notify, busy
    }
    static let propWrite: UInt8 = 0x08
    static let propNotify: UInt8 = 0x10

    private final class Device {
        let fd: Int32
        var closed = false
        var answers: [UInt8?] = []
        let cond = NSCondition()
        init(fd: Int32) { self.fd = fd }
    }

    private let addrs: [String]
    private let lock = NSLock()
    private var devices: [String: Device] = [:]
    /// What `adapterState` reports (tests switch Bluetooth "off").
    public var adapter: AdapterState = .poweredOn
    /// Successful opens so far.
    public private(set) var opens = 0

    public init(addrs: [String]) { self.addrs = addrs }

    public func adapterState() -> AdapterState { adapter }

    public func startScan(_ found: @escaping (SeenDevice) -> Void) throws {
        let addrs = self.addrs
        Thread.detachNewThread {
            for a in addrs {
                guard let fd = try? Self.dial(a, timeoutSec: 1) else { continue }
                defer { Glue.closeFd(fd) }
                guard (try? Self.send(fd, .scan)) != nil,
                    let (ty, body) = try? Self.read(fd), ty == T.advert.rawValue,
                    let ad = Self.parseAdvert(body), ad.services.contains(Self.uuid(TinySSB.service))
                else { continue }
                found(SeenDevice(id: a, name: ad.name, rssi: ad.rssi))
            }
        }
    }

    public func stopScan() {}

    public func open(
        _ id: String, notified: @escaping (Data) -> Void, lost: @escaping (String) -> Void
    ) throws -> UInt32 {
        let fd: Int32
        do { fd = try Self.dial(id, timeoutSec: 3) } catch let e as GattFailure { throw e }
        var ok = false
        defer { if !ok { Glue.closeFd(fd) } }
        func ask(_ t: T, _ body: [UInt8] = []) throws -> (UInt8, [UInt8]) {
            try Self.send(fd, t, body)
            let got = try Self.read(fd)
            if got.0 == T.busy.rawValue { throw GattFailure.gone("the dongle is busy") }
            return got
        }
        let (_, m) = try ask(.mtuReq, [UInt8(TinySSB.wantedMtu >> 8), UInt8(TinySSB.wantedMtu & 0xff)])
        guard m.count >= 2 else { throw GattFailure.failed("a short MTU answer") }
        let mtu = min(UInt32(m[0]) << 8 | UInt32(m[1]), TinySSB.wantedMtu)
        let (_, s) = try ask(.discover)
        guard let chars = Self.parseServices(s)[Self.uuid(TinySSB.service)] else {
            throw GattFailure.serviceMissing("tinySSB service")
        }
        guard (chars[Self.uuid(TinySSB.rx)] ?? 0) & Self.propWrite != 0,
            (chars[Self.uuid(TinySSB.tx)] ?? 0) & Self.propNotify != 0
        else { throw GattFailure.serviceMissing("RX/TX characteristics") }
        let (ty, r) = try ask(.subscribe, Self.uuid(TinySSB.tx))
        guard ty == T.writeRsp.rawValue, r.first == 0 else {
            throw GattFailure.failed("subscription refused")
        }
        Self.setTimeout(fd, 0)
        let d = Device(fd: fd)
        lock.locked {
            devices[id] = d
            opens += 1
        }
        ok = true
        Thread.detachNewThread { [weak self] in
            var why = "the dongle closed the connection"
            while true {
                guard let (t, body) = try? Self.read(fd) else { break }
                if t == T.notify.rawValue, body.count >= 16,
                    Array(body[0..<16]) == Self.uuid(TinySSB.tx)
                {
                    notified(Data(body[16...]))
                } else if t == T.writeRsp.rawValue {
                    d.cond.lock()
                    d.answers.append(body.first ?? 0xff)
                    d.cond.signal()
                    d.cond.unlock()
                }
            }
            why = "link lost: " + why
            d.cond.lock()
            d.answers.append(nil)
            let wasClosed = d.closed
            d.cond.signal()
            d.cond.unlock()
            self?.lock.locked { if self?.devices[id] === d { self?.devices[id] = nil } }
            Glue.closeFd(fd)
            if !wasClosed { lost(why) }
        }
        return mtu
    }

    public func write(_ id: String, _ value: Data) throws {
        guard let d = lock.locked({ devices[id] }) else { throw GattFailure.gone("not connected") }
        try Self.send(d.fd, .write, Self.uuid(TinySSB.rx) + [UInt8](value))
        d.cond.lock()
        defer { d.cond.unlock() }
        let until = Date().addingTimeInterval(5)
        while d.answers.isEmpty {
            if !d.cond.wait(until: until) { throw GattFailure.failed("no write response in 5 s") }
        }
        let code = d.answers.removeFirst()
        guard let c = code else { throw GattFailure.gone("link lost") }
        guard c == 0 else { throw GattFailure.failed(String(format: "ATT error 0x%02x", c)) }
    }

    public func close(_ id: String) {
        guard let d = lock.locked({ devices.removeValue(forKey: id) }) else { return }
        d.cond.lock()
        d.closed = true
        d.cond.unlock()
        _ = shutdown(d.fd, Int32(SHUT_RDWR))
    }

    // MARK: the wire

    static func uuid(_ s: String) -> [UInt8] {
        let hex = s.replacingOccurrences(of: "-", with: "")
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }

    static func parseAdvert(_ b: [UInt8]) -> (name: String, rssi: Int16, services: [[UInt8]])? {
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

    static func parseServices(_ b: [UInt8]) -> [[UInt8]: [[UInt8]: UInt8]] {
        var out: [[UInt8]: [[UInt8]: UInt8]] = [:]
        guard let count = b.first else { return out }
        var i = 1
        for _ in 0..<count {
            guard b.count >= i + 17 else { return out }
            let svc = Array(b[i..<i + 16])
            let n = Int(b[i + 16])
            i += 17
            var chars: [[UInt8]: UInt8] = [:]
            for _ in 0..<n {
                guard b.count >= i + 17 else { return out }
                chars[Array(b[i..<i + 16])] = b[i + 16]
                i += 17
            }
            out[svc] = chars
        }
        return out
    }

    static func dial(_ addr: String, timeoutSec: Int) throws -> Int32 {
        guard let colon = addr.lastIndex(of: ":"), let port = UInt16(addr[addr.index(after: colon)...])
        else { throw GattFailure.gone("not a host:port address: \(addr)") }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(addr[..<colon]), &sa.sin_addr) == 1 else {
            throw GattFailure.gone("not an IPv4 address: \(addr)")
        }
        let fd = socket(AF_INET, streamSocket, 0)
        guard fd >= 0 else { throw GattFailure.failed("no socket") }
        setTimeout(fd, timeoutSec)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            Glue.closeFd(fd)
            throw GattFailure.gone("the dongle at \(addr) does not answer")
        }
        return fd
    }

    static func setTimeout(_ fd: Int32, _ sec: Int) {
        var tv = timeval()
        tv.tv_sec = sec
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    static func send(_ fd: Int32, _ t: T, _ body: [UInt8] = []) throws {
        let n = body.count + 1
        let frame = [UInt8(n >> 8), UInt8(n & 0xff), t.rawValue] + body
        var off = 0
        while off < frame.count {
            let w = frame[off...].withUnsafeBytes { Glue.send(fd, $0.baseAddress, $0.count) }
            guard w > 0 else { throw GattFailure.gone("the connection broke") }
            off += w
        }
    }

    static func read(_ fd: Int32) throws -> (UInt8, [UInt8]) {
        let head = try exact(fd, 2)
        let n = Int(head[0]) << 8 | Int(head[1])
        guard n >= 1, n <= 1024 else { throw GattFailure.failed("a frame of \(n) bytes") }
        let f = try exact(fd, n)
        return (f[0], Array(f[1...]))
    }

    static func exact(_ fd: Int32, _ n: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = buf[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard r > 0 else { throw GattFailure.gone("the connection closed") }
            got += r
        }
        return buf
    }
}

/// `send(2)` without the name clash with `EmulatorGatt.send`.
private enum Glue {
    static func send(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int {
        #if canImport(Glibc)
            return Glibc.send(fd, p, n, Int32(MSG_NOSIGNAL))
        #else
            return Darwin.send(fd, p, n, 0)
        #endif
    }

    static func closeFd(_ fd: Int32) {
        #if canImport(Glibc)
            _ = Glibc.close(fd)
        #else
            _ = Darwin.close(fd)
        #endif
    }
}
