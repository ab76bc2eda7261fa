// swift-tools-version:5.9
// Lichen for iOS: the generated bindings (`Lichen`), the app's logic in pure Swift
// (`LichenLogic`, tested by `swift test`), over the Rust library (`LichenFFI`).
//
// Where the library comes from is chosen by one environment variable, not by `#if os`:
// LICHEN_HOST_FFI=1 (ios/test.sh sets it) links the host's liblichen_ffi.so through the
// module map in Sources/LichenFFI; without it, the package takes LichenFFI.xcframework,
// which scripts/build-xcframework.sh makes on a Mac. See docs/adr/0032-ios-app-shape.md.
import Foundation
import PackageDescription

let hostLibrary = ProcessInfo.processInfo.environment["LICHEN_HOST_FFI"] == "1"

// The bindings' own XCTest tests (bindings/swift/Tests/LichenTests), which ios/test.sh stages
// beside these so that one build of the generated module serves both suites.
let packageDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let bindingTests = FileManager.default.fileExists(
    atPath: packageDir.appendingPathComponent("Tests/LichenBindingsTests").path)

let ffi: Target = hostLibrary
    ? .systemLibrary(name: "LichenFFI", path: "Sources/LichenFFI")
    : .binaryTarget(name: "LichenFFI", path: "LichenFFI.xcframework")

let package = Package(
    name: "Lichen",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "Lichen", targets: ["Lichen"]),
        .library(name: "LichenLogic", targets: ["LichenLogic"]),
    ],
    targets: [
        ffi,
        // The Swift uniffi generates (ios/test.sh or scripts/build-xcframework.sh writes it).
        .target(name: "Lichen", dependencies: ["LichenFFI"], path: "Sources/Lichen"),
        // View-models, onboarding, the central and peripheral sessions, notification
        // decisions: Foundation only, so it builds and is tested on Linux as on iOS.
        .target(name: "LichenLogic", dependencies: ["Lichen"], path: "Sources/LichenLogic"),
        .testTarget(
            name: "LichenLogicTests", dependencies: ["LichenLogic", "Lichen"],
            path: "Tests/LichenLogicTests"),
    ] + (bindingTests
        ? [.testTarget(
            name: "LichenBindingsTests", dependencies: ["Lichen"],
            path: "Tests/LichenBindingsTests")]
        : []),
    swiftLanguageVersions: [.v5]
)
