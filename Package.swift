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
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MARK: FUSE mount (kernel → adapter → mirror filesystem)
        .systemLibrary(
            name: "CFuse",
            pkgConfig: "fuse3",
            providers: [.apt(["libfuse3-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        .target(name: "CCRC32", linkerSettings: [.linkedLibrary("z")]),
        .target(
            name: "FUSEAdapter",
            dependencies: ["CFuse", .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics")]
        ),
        .target(
            name: "MirrorFilesystem",
            dependencies: ["CLinux", "FUSEAdapter", "UploadStatus", .product(name: "Logging", package: "swift-log")]
        ),

        // MARK: shared foundations (time and retries; a service run in the background)
        .target(name: "Timekeeping"),
        .testTarget(name: "TimekeepingTests", dependencies: ["Timekeeping"]),
        .target(
            name: "BackgroundServices",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: protocol layer, server side (tusfs serve)
        .target(name: "TusCore", dependencies: ["CCRC32", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "MediaManagerAPI"),
        .target(
            name: "TusServer",
            dependencies: [
                "TusCore", "CLinux", "Timekeeping",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "MediaService",
            dependencies: [
                "TusServer", "TusCore", "MediaManagerAPI", "Timekeeping", "BackgroundServices",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: protocol layer, client side (tusfs upload)
        .systemLibrary(
            name: "CMagic",
            providers: [.apt(["libmagic-dev"])]
        ),
        .target(
            name: "TusClient",
            dependencies: [
                "TusCore", "Timekeeping",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "MediaManagerClient",
            dependencies: [
                "TusClient", "MediaManagerAPI", "CMagic",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: status vocabulary (states, records, xattr names, status.json; no GRDB, no FUSE)
        .target(name: "UploadStatus"),
        .testTarget(name: "UploadStatusTests", dependencies: ["UploadStatus", "Timekeeping"]),

        // MARK: upload engine
        .target(
            name: "UploadEngine",
            dependencies: [
                "UploadStatus", "Timekeeping", "CLinux",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "UploadEngineTests",
            dependencies: ["UploadEngine", "UploadStatus", "UploadTargets", "Timekeeping", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),

        // MARK: upload targets (the engine's UploadTarget over the HTTP clients)
        .target(
            name: "UploadTargets",
            dependencies: [
                "UploadEngine", "UploadStatus", "Timekeeping", "TusClient", "MediaManagerClient", "MediaManagerAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "UploadTargetsTests",
            dependencies: [
                "UploadTargets", "UploadEngine", "UploadStatus", "MediaService", "MediaManagerClient", "MediaManagerAPI", "TusClient",
                "TusServer", "BackgroundServices", "TestSupport", "Timekeeping",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: the mount's daemon (settings, cache, upload runtime, FUSE session, metrics, systemd, fstab)
        .target(
            name: "MountDaemon",
            dependencies: [
                "CLinux", "FUSEAdapter", "MirrorFilesystem", "MediaService", "BackgroundServices", "TusClient", "MediaManagerClient",
                "MediaManagerAPI", "UploadEngine", "UploadStatus", "UploadTargets", "TusCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "MountDaemonTests",
            dependencies: [
                "MountDaemon", "MirrorFilesystem", "FUSEAdapter", "UploadEngine", "UploadStatus", "TestSupport", "TusCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),

        // MARK: status client (reads a mount's status.json and summaries: tusfs status, wait, unmount --wait)
        .target(name: "StatusClient", dependencies: ["UploadStatus", "CLinux"]),
        .testTarget(name: "StatusClientTests", dependencies: ["StatusClient", "UploadStatus", "TestSupport"]),

        // MARK: tusfs upload (files sent straight to a service, without a mount)
        .target(
            name: "DirectUploads",
            dependencies: [
                "TusClient", "MediaManagerClient", "MediaManagerAPI", "StatusClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: command line (parsing only; the work is in MountDaemon, StatusClient and DirectUploads)
        .executableTarget(
            name: "tusfs",
            dependencies: [
                "MountDaemon", "StatusClient", "DirectUploads", "MediaService", "TusServer", "TusClient", "MediaManagerClient", "MediaManagerAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: tests
        .target(name: "TestSupport", dependencies: ["CLinux", "Timekeeping"], path: "Tests/TestSupport"),
        .testTarget(name: "MirrorFilesystemTests", dependencies: ["CLinux", "FUSEAdapter", "MirrorFilesystem", "UploadStatus", "TestSupport"]),
        .testTarget(name: "MountTests", dependencies: ["CLinux", "TestSupport", "UploadStatus"]),
        .testTarget(
            name: "TusServerTests",
            dependencies: [
                "TusServer", "TusCore", "CCRC32", "CLinux", "MediaService", "BackgroundServices", "TestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MediaServiceTests",
            dependencies: [
                "MediaService", "MediaManagerAPI", "TusCore", "TusServer", "BackgroundServices", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "TusClientTests", dependencies: ["TusClient", "TusCore", "TestSupport"]),
        .testTarget(
            name: "MediaManagerClientTests",
            dependencies: [
                "MediaManagerClient", "MediaManagerAPI", "TusClient", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
