// The archive limits the reader needs, as in Sources/MedtagSpool/Spool/SpoolConfiguration.swift,
// for the fuzz build that compiles ArchiveReader.swift on its own.
struct ArchiveLimits: Sendable, Equatable {
    var maxMemberBytes: Int = 64 << 20
    var maxTotalBytes: Int = 1 << 30
    var maxRatio: Int = 200
    var maxMembers: Int = 100_000
    var maxDepth: Int = 2
}
