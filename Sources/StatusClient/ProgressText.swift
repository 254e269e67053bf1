import Foundation

/// The text of progress displays, shared by `tusfs upload`'s bar, the `tusfs status` table and `tusfs wait`.
public enum ProgressText {
    /// `[=========>          ]  48%`: a bar of `width` cells and the percentage.
    public static func bar(_ fraction: Double, width: Int) -> String {
        let fraction = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let filled = Int(fraction * Double(width))
        let cells = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
            + String(repeating: " ", count: max(0, width - filled - 1))
        return "[" + cells + "] " + percent(fraction)
    }

    /// `  5%`, ` 48%`, `100%`: always four characters, 100% only when complete.
    public static func percent(_ fraction: Double) -> String {
        let value = fraction >= 1 ? 100 : min(99, Int(fraction * 100))
        return String(repeating: " ", count: 3 - String(value).count) + "\(value)%"
    }

    /// Bytes in binary units: `512 B`, `4.0 KiB`, `1.5 GiB`.
    public static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = value
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Bytes in binary units: `512 B`, `4.0 KiB`, `1.5 GiB`.
    public static func bytes(_ value: Int64) -> String { bytes(Double(value)) }
}
