import Foundation
import Lichen
import XCTest

@testable import LichenLogic

/// A fresh directory under the system's temporary directory.
func freshDir(_ name: String) -> String {
    let d = FileManager.default.temporaryDirectory
        .appendingPathComponent("lichen-ios-\(name)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d.path
}

/// Polls `cond` every 50 ms until it holds; fails the test after `timeout` seconds.
@discardableResult
func waitFor<T>(
    _ what: String, timeout: TimeInterval = 30, file: StaticString = #filePath,
    line: UInt = #line, _ cond: () async throws -> T?
) async throws -> T {
    let until = Date().addingTimeInterval(timeout)
    while Date() < until {
        if let v = try await cond() { return v }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    XCTFail("timed out waiting for \(what)", file: file, line: line)
    throw CallbackError.Failed(reason: "timed out waiting for \(what)")
}

func waitFor(
    _ what: String, timeout: TimeInterval = 30, file: StaticString = #filePath,
    line: UInt = #line, _ cond: () async throws -> Bool
) async throws {
    try await waitFor(what, timeout: timeout, file: file, line: line) { () async throws -> Bool? in
        try await cond() ? true : nil
    }
}

/// Answers the permission prompts as a person would, and remembers the order asked.
final class ScriptedAsker: PermissionAsker {
    var answers: [Permission: PermissionAnswer]
    private(set) var asked: [Permission] = []
    init(_ answers: [Permission: PermissionAnswer]) { self.answers = answers }
    func ask(_ permission: Permission) async -> PermissionAnswer {
        asked.append(permission)
        return answers[permission] ?? .denied
    }
}

func newRoot(_ name: String) async throws -> Lichen {
    try await LichenBuilder(dataDir: freshDir(name)).create()
}

/// Links two roots over WebSocket loopback (real sockets).
func link(_ a: Lichen, _ b: Lichen) async throws -> (Link, Link) {
    let listener = try await b.links().listenWs(addr: "127.0.0.1:0")
    let dial = try await a.links().dialWs(url: listener.url(), timeoutMs: 5000)
    return (listener, dial)
}
