// libFuzzer harness: the libarchive-backed streaming reader on arbitrary bytes (tar, gzip, bzip2,
// xz, zip...), with small limits. Every member name is checked as the spool checks it; an accepted
// name must never leave the archive's folder.
@testable import MedtagIngest

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchive(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var limits = ArchiveLimits()
    limits.maxMemberBytes = 1 << 20
    limits.maxTotalBytes = 4 << 20
    limits.maxMembers = 1000
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let reader = try? ArchiveReader(bytes: bytes, name: "fuzz", limits: limits) else { return 0 }
    while true {
        guard let member = try? reader.nextMember() else { break }
        if case .accepted(let path) = MemberPath.check(member.rawPath) {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            precondition(!path.hasPrefix("/") && !parts.contains("..") && !parts.contains("") && !parts.contains("."), "unsafe member path accepted: \(path)")
        }
        let content: [UInt8]?
        do { content = try reader.readMember() } catch { break }
        if let content { precondition(content.count <= limits.maxMemberBytes, "member past its limit") }
        precondition(reader.expandedBytes <= limits.maxTotalBytes, "archive past its total limit")
    }
    return 0
}
