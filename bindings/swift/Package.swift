// swift-tools-version:5.9
// The Swift package of the Lichen bindings. Sources/Lichen (Lichen.swift) and Sources/LichenFFI
// (LichenFFI.h, module.modulemap) are generated from the library under test by
// scripts/test-swift.sh; they are not kept in the repository, so they never drift from it.
import PackageDescription

let package = Package(
    name: "Lichen",
    products: [.library(name: "Lichen", targets: ["Lichen"])],
    targets: [
        // The C side of the uniffi scaffolding: the header and its module map, nothing else.
        .systemLibrary(name: "LichenFFI", path: "Sources/LichenFFI"),
        .target(
            name: "Lichen",
            dependencies: ["LichenFFI"],
            path: "Sources/Lichen",
            linkerSettings: [.linkedLibrary("lichen_ffi")]
        ),
        .testTarget(name: "LichenTests", dependencies: ["Lichen"], path: "Tests/LichenTests"),
    ],
    // Swift 6 mode crashes the 6.0.3 compiler on uniffi's async foreign traits.
    swiftLanguageVersions: [.v5]
)
