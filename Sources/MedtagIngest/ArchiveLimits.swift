/// Limits applied to every archive, member by member and in total.
public struct ArchiveLimits: Sendable, Equatable {
    /// Largest expanded size of one member, in bytes.
    public var maxMemberBytes: Int = 32 << 20
    /// Largest expanded size of all members of one archive together, in bytes.
    public var maxTotalBytes: Int = 1 << 30
    /// Largest ratio of expanded bytes to compressed bytes read (zip bombs); checked once 1 MiB is out.
    public var maxRatio: Int = 200
    /// Most members (files, folders, links) one archive may hold.
    public var maxMembers: Int = 100_000
    /// How deep archives may nest in archives; 0 refuses any archive inside an archive.
    public var maxDepth: Int = 2

    public init() {}
}
