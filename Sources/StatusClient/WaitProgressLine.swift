import Foundation

/// `[=====>     ]  48%  3/10 files ready, 1 failed, 4.1 MiB/12.0 MiB` on stderr, redrawn in place.
struct WaitProgressLine {
    let enabled: Bool
    let settledWord: String

    func draw(settled: Int, failed: Int, total: Int, bytesDone: Double, bytesTotal: Int64) {
        guard enabled else { return }
        let fraction = bytesTotal > 0 ? bytesDone / Double(bytesTotal) : (total == settled ? 1 : 0)
        var text = "\r\u{1B}[2K" + ProgressText.bar(fraction, width: 30)
            + "  \(settled - failed)/\(total) files \(settledWord)"
        if failed > 0 { text += ", \(failed) failed" }
        text += ", " + ProgressText.bytes(bytesDone) + "/" + ProgressText.bytes(bytesTotal)
        FileHandle.standardError.write(Data(text.utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
