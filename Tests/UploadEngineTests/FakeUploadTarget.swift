import Foundation
import Synchronization
@testable import UploadEngine
import UploadStatus

/// An in-memory stand-in for the service: uploads go in chunks into a ``FakeService``, resume from the
/// server's offset, and are finalized, processed, renamed, deleted or terminated there. Faults are injected by
/// wrapping it in a `FaultInjectingTarget`, as any target can be.
///
/// Two targets can share one `FakeService`, like two daemon runs talking to the same server.
final class FakeUploadTarget: UploadTarget {
    struct Options: Sendable {
        var chunkSize = 16 * 1024
        var chunkDelay: Duration = .zero
        var needsFinalize = true
        var processingPolls = 1
        /// Uploads from this size are named at finalize, like the Media Manager's tus flow: the engine starts
        /// them at close, and the name given to finalize is the stored file's (its folder must not change).
        var namedAtFinalizeFromSize: Int64?
    }

    var namedAtFinalizeFromSize: Int64? { options.namedAtFinalizeFromSize }

    /// Remembers the hint (``FakeService/prepared``); prepares nothing.
    func prepare(file: String, remotePath: String) { service.state.withLock { $0.prepared.append(remotePath) } }

    let service: FakeService
    let options: Options

    init(service: FakeService = FakeService(), options: Options = Options()) {
        self.service = service
        self.options = options
    }

    func upload(
        file: String, remotePath: String, size: Int64, resume: ResumeData?,
        onResumeData: @escaping @Sendable (ResumeData) async -> Void,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(UploadTargetError) -> UploadOutcome {
        guard let content = FileManager.default.contents(atPath: file) else { throw .permanent("cannot read \(file)") }
        var offset: Int64
        let uploadURL: String
        if let url = resume?.tusUploadURL, let serverOffset = service.offset(of: url) {
            uploadURL = url
            offset = serverOffset  // HEAD
            service.log(.upload(path: remotePath, resumedAt: offset))
        } else {
            uploadURL = service.createUpload(path: remotePath, size: size)
            offset = 0
            service.log(.upload(path: remotePath, resumedAt: nil))
            await onResumeData(ResumeData(tusUploadURL: uploadURL, uploadToken: "token-" + uploadURL.split(separator: "/").last!))
        }
        while offset < size {
            if Task.isCancelled { throw .retryable("cancelled") }
            let end = min(offset + Int64(options.chunkSize), size, Int64(content.count))
            guard end > offset else { throw .permanent("file shorter than \(size)") }
            guard service.append(content[Int(offset)..<Int(end)], to: uploadURL) else { throw .permanent("upload \(uploadURL) is gone", status: 404) }
            offset = end
            progress(offset)
            if options.chunkDelay > .zero { try? await Task.sleep(for: options.chunkDelay) } else { await Task.yield() }
        }
        if options.needsFinalize { return .needsFinalize }
        return .stored(try service.store(uploadURL, processingPolls: options.processingPolls))
    }

    func finalize(resume: ResumeData, remotePath: String, size: Int64) async throws(UploadTargetError) -> RemoteFile {
        service.log(.finalize(path: remotePath))
        guard let url = resume.tusUploadURL, service.offset(of: url) == size else { throw .permanent("upload incomplete", status: 409) }
        if let minimum = options.namedAtFinalizeFromSize, size >= minimum {
            return try service.store(url, processingPolls: options.processingPolls, renamedTo: remotePath)
        }
        return try service.store(url, processingPolls: options.processingPolls)
    }

    func processingStatus(remoteId: String) async throws(UploadTargetError) -> ProcessingStatus {
        service.log(.status(remoteId: remoteId))
        return service.status(remoteId)
    }

    func delete(remoteId: String) async throws(UploadTargetError) {
        service.log(.delete(remoteId: remoteId))
        service.trash(remoteId)
    }

    func rename(remoteId: String, to newRemotePath: String) async throws(UploadTargetError) {
        service.log(.rename(remoteId: remoteId, newPath: newRemotePath))
        service.rename(remoteId, to: newRemotePath)
    }

    func probe() async throws(UploadTargetError) {
        service.log(.probe)
    }

    func terminate(resume: ResumeData) async throws(UploadTargetError) {
        guard let url = resume.tusUploadURL else { return }
        service.log(.terminate(uploadURL: url))
        service.terminate(url)
    }
}

/// The fake service's state: uploads in progress, stored files, the trash, and a log of calls.
final class FakeService: Sendable {
    enum Call: Sendable, Hashable {
        case upload(path: String, resumedAt: Int64?)
        case finalize(path: String)
        case status(remoteId: String)
        case delete(remoteId: String)
        case rename(remoteId: String, newPath: String)
        case terminate(uploadURL: String)
        case probe
    }

    struct Upload: Sendable {
        var path: String
        var size: Int64
        var data = Data()
        var terminated = false
        /// The file this upload became (finalizing or storing again returns the same file).
        var storedAs: String?
    }

    struct StoredFile: Sendable {
        var path: String
        var data: Data
        var pollsLeft: Int
        var trashed = false
    }

    struct State: Sendable {
        var uploads: [String: Upload] = [:]
        var files: [String: StoredFile] = [:]
        var calls: [Call] = []
        /// The files the engine asked the target to prepare for, in order (not among `calls`: a hint).
        var prepared: [String] = []
        var bytesReceived: [String: Int64] = [:]
        var nextId = 0
    }

    let state = Mutex(State())

    func log(_ call: Call) { state.withLock { $0.calls.append(call) } }
    var calls: [Call] { state.withLock { $0.calls } }
    var prepared: [String] { state.withLock { $0.prepared } }

    func createUpload(path: String, size: Int64) -> String {
        state.withLock { state in
            state.nextId += 1
            let url = "fake://uploads/\(state.nextId)"
            state.uploads[url] = Upload(path: path, size: size)
            return url
        }
    }

    func offset(of url: String) -> Int64? {
        state.withLock { state in
            guard let upload = state.uploads[url], !upload.terminated else { return nil }
            return Int64(upload.data.count)
        }
    }

    func append(_ bytes: Data, to url: String) -> Bool {
        state.withLock { state in
            guard var upload = state.uploads[url], !upload.terminated, upload.storedAs == nil else { return false }
            upload.data.append(bytes)
            state.uploads[url] = upload
            state.bytesReceived[upload.path, default: 0] += Int64(bytes.count)
            return true
        }
    }

    /// Makes the upload at `url` a file, named as it was created or, for an upload named at finalize,
    /// `renamedTo` (in the same folder: a service fixes the folder when the upload is created).
    func store(_ url: String, processingPolls: Int, renamedTo newPath: String? = nil) throws(UploadTargetError) -> RemoteFile {
        try state.withLock { state throws(UploadTargetError) in
            var upload = state.uploads[url]!
            if let id = upload.storedAs { return RemoteFile(remoteId: id, url: nil, needsProcessing: processingPolls > 0) }
            if let newPath, UploadStateMachine.folder(of: newPath) != UploadStateMachine.folder(of: upload.path) {
                throw .permanent("finalize in \(newPath) of an upload created in \(upload.path)", status: 400)
            }
            state.nextId += 1
            let id = "file-\(state.nextId)"
            state.files[id] = StoredFile(path: newPath ?? upload.path, data: upload.data, pollsLeft: processingPolls)
            upload.storedAs = id
            state.uploads[url] = upload
            return RemoteFile(remoteId: id, url: nil, needsProcessing: processingPolls > 0)
        }
    }

    func status(_ remoteId: String) -> ProcessingStatus {
        state.withLock { state in
            guard var file = state.files[remoteId] else { return .failed(reason: "no such file") }
            if file.pollsLeft > 0 {
                file.pollsLeft -= 1
                state.files[remoteId] = file
                return .pending
            }
            return .ready(url: "https://media.example/\(remoteId)")
        }
    }

    func trash(_ remoteId: String) { state.withLock { $0.files[remoteId]?.trashed = true } }
    func rename(_ remoteId: String, to path: String) { state.withLock { $0.files[remoteId]?.path = path } }
    func terminate(_ url: String) {
        state.withLock { state in
            state.uploads[url]?.terminated = true
            if let id = state.uploads[url]?.storedAs { state.files[id]?.trashed = true }
        }
    }

    /// Stored files not in the trash, by path.
    var liveFiles: [String: [Data]] {
        state.withLock { state in
            var result: [String: [Data]] = [:]
            for file in state.files.values where !file.trashed { result[file.path, default: []].append(file.data) }
            return result
        }
    }

    /// Uploads created and neither stored nor terminated.
    var openUploads: [String] {
        state.withLock { state in state.uploads.filter { !$0.value.terminated && $0.value.storedAs == nil }.map(\.value.path) }
    }

    func bytesReceived(for path: String) -> Int64 { state.withLock { $0.bytesReceived[path] ?? 0 } }
}

/// The resume values the fake target keeps (the engine never reads them).
extension ResumeData {
    init(tusUploadURL: String? = nil, uploadToken: String? = nil, plainUploadURL: String? = nil) {
        self.init(["tusUploadURL": tusUploadURL, "uploadToken": uploadToken, "plainUploadURL": plainUploadURL])
    }

    var tusUploadURL: String? { self["tusUploadURL"] }
}
