// NOT BUILT HERE: Apple-only file attributes (Foundation on Linux lacks data protection).
import Foundation

/// Lichen's data directory: Application Support/Lichen, readable while the phone is locked
/// after the first unlock (background Bluetooth writes the store while locked) and excluded
/// from iCloud backup (the key must never reach a second device through a backup: forks).
enum DataDirectory {
    static func prepare() throws -> URL {
        let fm = FileManager.default
        var dir = try fm.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
        ).appendingPathComponent("Lichen", isDirectory: true)
        try fm.createDirectory(
            at: dir, withIntermediateDirectories: true,
            attributes: [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication])
        try fm.setAttributes(
            [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication],
            ofItemAtPath: dir.path)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try dir.setResourceValues(values)
        return dir
    }
}
