import Foundation

/// Layout of the binary lexicon file (little-endian throughout).
///
/// ```
/// header (128 bytes): magic "MEDTAGLX", format version, counts, section offsets, total size
/// strings:        UTF-8 blob (keys, codes, terms)
/// keys:           KeyRecord × keyCount, sorted by UTF-8 bytes of the key (binary search)
/// postings:       Posting × postingCount (code, corpus counts, sources), grouped by key
/// codes:          CodeRecord × codeCount, sorted by code string (binary search)
/// grams:          GramRecord × gramCount, sorted by packed character trigram
/// gram postings:  UInt32 key indices, ascending within each gram
/// ```
/// Opening maps the file and checks the header; entries are read only when looked up.
public enum LexiconFormat {
    /// File magic.
    public static let magic: [UInt8] = Array("MEDTAGLX".utf8)
    /// Current format version; readers refuse other versions.
    public static let version: UInt32 = 1
    /// Bytes in the header.
    public static let headerSize = 128
    static let keyRecordSize = 16
    static let postingSize = 16
    static let codeRecordSize = 24
    static let gramRecordSize = 16
    /// Index value for "no code": a name known only from a name list (gazetteer).
    static let noCode: UInt32 = .max
    /// Padding scalar for character trigrams at word boundaries.
    static let boundary: UInt32 = 1
    /// Default file names inside a lexicon directory.
    public static let defaultFileName = "lexicon.mtlx"
    /// Manifest next to the lexicon file.
    public static let manifestFileName = "lexicon.json"

    /// Distinct padded character trigrams of a key, packed 21 bits per scalar.
    static func grams(_ scalars: [UInt32]) -> [UInt64] {
        let padded = [boundary, boundary] + scalars + [boundary, boundary]
        var out = Set<UInt64>()
        if padded.count >= 3 {
            for i in 0...(padded.count - 3) {
                out.insert(UInt64(padded[i]) << 42 | UInt64(padded[i + 1]) << 21 | UInt64(padded[i + 2]))
            }
        }
        return out.sorted()
    }
}

/// Where a lexicon entry came from (bit flags in `Posting.sources`).
public struct LexiconSources: OptionSet, Sendable, Hashable {
    /// The raw flags.
    public let rawValue: UInt32
    /// Creates flags from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// An annotated corpus mention.
    public static let corpus = LexiconSources(rawValue: 1)
    /// A name list without codes (gazetteer).
    public static let nameList = LexiconSources(rawValue: 2)
    /// An active SNOMED-CT description from an RF2 release.
    public static let rf2 = LexiconSources(rawValue: 4)
    /// The RF2 description is the concept's preferred term.
    public static let rf2Preferred = LexiconSources(rawValue: 8)
}

/// The JSON manifest written next to a lexicon file: version, checksum and provenance.
public struct LexiconManifest: Codable, Sendable, Equatable {
    /// Always "medtag-lexicon".
    public var format: String
    /// Binary format version of `file`.
    public var formatVersion: Int
    /// File name of the binary lexicon, relative to the manifest.
    public var file: String
    /// Lowercase hex SHA-256 of `file`.
    public var sha256: String
    /// Size of `file` in bytes.
    public var bytes: Int
    /// Number of distinct keys.
    public var keys: Int
    /// Number of distinct codes (including `<null>`).
    public var codes: Int
    /// Number of key → code postings.
    public var postings: Int
    /// Human-readable description of each source used.
    public var sources: [String]
    /// Abbreviation table file name next to the manifest, if any.
    public var abbreviations: String?

    /// Creates a manifest.
    public init(
        file: String, sha256: String, bytes: Int, keys: Int, codes: Int, postings: Int, sources: [String],
        abbreviations: String?
    ) {
        self.format = "medtag-lexicon"
        self.formatVersion = Int(LexiconFormat.version)
        self.file = file
        self.sha256 = sha256
        self.bytes = bytes
        self.keys = keys
        self.codes = codes
        self.postings = postings
        self.sources = sources
        self.abbreviations = abbreviations
    }
}

/// Little-endian byte writer for the lexicon file.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xff)); bytes.append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    mutating func pad(to alignment: Int) { while bytes.count % alignment != 0 { bytes.append(0) } }
}
