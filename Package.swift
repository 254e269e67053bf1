// swift-tools-version: 6.1
// tusfs: a FUSE mount whose files are uploaded with tus to a Media Manager–style service.
// One SwiftPM target per layer; see docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "tusfs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tusfs", targets: ["tusfs"]),
        .library(name: "TusClient", targets: ["TusClient"]),
        .library(name: "TusServer", targets: ["TusServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // MARK: FUSE mount (kernel → adapter → mirror filesystem)
        .systemLibrary(
            name: "CFuse",
            pkgConfig: "fuse3",
            providers: [.apt(["libfuse3-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        .target(
            name: "FUSEAdapter",
            dependencies: ["CFuse", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "MirrorFilesystem",
            dependencies: ["CLinux", "FUSEAdapter", .product(name: "Logging", package: "swift-log")]
        ),

        // MARK: protocol layer, server side (tusfs serve)
        .target(name: "TusCore"),
        .target(name: "MediaManagerAPI"),
        .target(name: "TusServer", dependencies: ["TusCore"]),
        .target(name: "MediaService", dependencies: ["TusServer", "MediaManagerAPI"]),

        // MARK: protocol layer, client side (tusfs upload)
        .systemLibrary(
            name: "CMagic",
            providers: [.apt(["libmagic-dev"])]
        ),
        .target(name: "TusClient", dependencies: ["TusCore"]),
        .target(name: "MediaManagerClient", dependencies: ["TusClient", "MediaManagerAPI", "CMagic"]),

        // MARK: upload engine
        .target(
            name: "UploadEngine",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "UploadEngineTests", dependencies: ["UploadEngine", "TestSupport"]),

        // MARK: command line
        .executableTarget(
            name: "tusfs",
            dependencies: [
                "CLinux", "FUSEAdapter", "MirrorFilesystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: tests
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "MirrorFilesystemTests", dependencies: ["CLinux", "FUSEAdapter", "MirrorFilesystem", "TestSupport"]),
        .testTarget(name: "MountTests", dependencies: ["CLinux", "TestSupport"]),
        .testTarget(name: "TusServerTests", dependencies: ["TusServer", "MediaService", "TestSupport"]),
        .testTarget(name: "MediaServiceTests", dependencies: ["MediaService", "TestSupport"]),
        .testTarget(name: "TusClientTests", dependencies: ["TusClient", "MediaManagerClient", "TestSupport"]),
    ]
)
