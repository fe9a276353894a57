import Foundation
import MedtagStorage

/// Collects mention → code evidence in memory and writes the binary lexicon.
///
/// Sources: annotated corpus mentions (with their label, counted), name lists
/// without codes (a gazetteer: they tell that a string is a known substance
/// whose code is unknown), and SNOMED-CT descriptions from an RF2 release.
public struct LexiconBuilder: Sendable {
    struct PostingAccumulator: Sendable {
        var count = 0
        var protein = 0
        var sources: LexiconSources = []
    }
    struct CodeAccumulator: Sendable {
        var count = 0
        var protein = 0
        var surfaces: [String: Int] = [:]
        var preferredTerm: String?
    }
    /// key → (code or nil) → evidence
    private(set) var entries: [String: [String?: PostingAccumulator]] = [:]
    private(set) var codes: [String: CodeAccumulator] = [:]
    /// Descriptions of the sources added, for the manifest.
    public var sourceNotes: [String] = []

    /// An empty builder.
    public init() {}

    /// The label whose mentions count as protein evidence; others count as substance evidence.
    public static let proteinLabel = "PROTEINAS"

    /// Adds one annotated mention. `code` is a concept id or `<null>`.
    public mutating func addMention(text: String, label: String, code: String) {
        let key = TermKey.key(text)
        guard !key.isEmpty else { return }
        let protein = label == Self.proteinLabel ? 1 : 0
        entries[key, default: [:]][code, default: PostingAccumulator()].count += 1
        entries[key]![code]!.protein += protein
        entries[key]![code]!.sources.insert(.corpus)
        codes[code, default: CodeAccumulator()].count += 1
        codes[code]!.protein += protein
        codes[code]!.surfaces[text, default: 0] += 1
    }

    /// Adds a known name without a code (for example a gazetteer line).
    public mutating func addName(_ text: String) {
        let key = TermKey.key(text)
        guard !key.isEmpty else { return }
        entries[key, default: [:]][nil, default: PostingAccumulator()].sources.insert(.nameList)
    }

    /// Adds an active description of a concept; `preferred` marks the concept's preferred term.
    public mutating func addDescription(term: String, code: String, preferred: Bool) {
        let key = TermKey.key(term)
        guard !key.isEmpty else { return }
        var sources: LexiconSources = .rf2
        if preferred { sources.insert(.rf2Preferred) }
        entries[key, default: [:]][code, default: PostingAccumulator()].sources.formUnion(sources)
        if codes[code] == nil { codes[code] = CodeAccumulator() }
        if preferred { codes[code]!.preferredTerm = term }
    }

    /// Number of distinct keys so far.
    public var keyCount: Int { entries.count }

    /// The term shown for a code: its preferred term if known, else its most frequent corpus mention.
    static func term(for info: CodeAccumulator) -> String {
        if let preferred = info.preferredTerm { return preferred }
        return info.surfaces.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key ?? ""
    }

    static func sortedByBytes<S: Sequence>(_ strings: S) -> [String] where S.Element == String {
        strings.map { (Array($0.utf8), $0) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }.map(\.1)
    }

    /// Serializes the lexicon to the binary format described in `LexiconFormat`.
    public func serialize() -> [UInt8] {
        var strings: [UInt8] = []
        func intern(_ s: String) -> (UInt32, UInt16) {
            let utf8 = Array(s.utf8.prefix(Int(UInt16.max)))
            let offset = UInt32(strings.count)
            strings.append(contentsOf: utf8)
            return (offset, UInt16(utf8.count))
        }
        // Codes sorted by their UTF-8 bytes.
        let codeList = Self.sortedByBytes(codes.keys)
        var codeIndex: [String: UInt32] = [:]
        for (i, c) in codeList.enumerated() { codeIndex[c] = UInt32(i) }
        var codeRecords = ByteWriter()
        for c in codeList {
            let info = codes[c]!
            let (co, cl) = intern(c)
            let (to, tl) = intern(Self.term(for: info))
            codeRecords.u32(co); codeRecords.u16(cl); codeRecords.u16(tl); codeRecords.u32(to)
            codeRecords.u32(UInt32(info.count)); codeRecords.u32(UInt32(info.protein)); codeRecords.u32(0)
        }
        // Keys sorted by UTF-8 bytes.
        let keyList = Self.sortedByBytes(entries.keys)
        var keyRecords = ByteWriter()
        var postings = ByteWriter()
        var postingCount: UInt32 = 0
        var gramPostings: [UInt64: [UInt32]] = [:]
        for (keyIndex, key) in keyList.enumerated() {
            let scalars = key.unicodeScalars.map(\.value)
            let (ko, kl) = intern(key)
            let list = entries[key]!.sorted { a, b in
                if a.value.count != b.value.count { return a.value.count > b.value.count }
                return (a.key ?? "") < (b.key ?? "")
            }
            let grams = LexiconFormat.grams(scalars)
            let indexed = list.contains { $0.key != nil && $0.key != "<null>" }
            if indexed {
                for g in grams { gramPostings[g, default: []].append(UInt32(keyIndex)) }
            }
            keyRecords.u32(ko); keyRecords.u16(kl); keyRecords.u16(UInt16(min(scalars.count, Int(UInt16.max))))
            keyRecords.u32(postingCount); keyRecords.u16(UInt16(min(list.count, Int(UInt16.max))))
            keyRecords.u16(UInt16(min(grams.count, Int(UInt16.max))))
            for (code, acc) in list.prefix(Int(UInt16.max)) {
                postings.u32(code.map { codeIndex[$0]! } ?? LexiconFormat.noCode)
                postings.u32(UInt32(acc.count)); postings.u32(UInt32(acc.protein)); postings.u32(acc.sources.rawValue)
                postingCount += 1
            }
        }
        let gramList = gramPostings.keys.sorted()
        var gramRecords = ByteWriter()
        var gramPostingBytes = ByteWriter()
        var gramPostingCount: UInt32 = 0
        for g in gramList {
            let list = gramPostings[g]!
            gramRecords.u64(g); gramRecords.u32(gramPostingCount); gramRecords.u32(UInt32(list.count))
            for k in list { gramPostingBytes.u32(k) }
            gramPostingCount += UInt32(list.count)
        }
        // Assemble: header, then sections each 8-byte aligned.
        var body = ByteWriter()
        body.bytes = [UInt8](repeating: 0, count: LexiconFormat.headerSize)
        func place(_ section: [UInt8]) -> UInt64 {
            body.pad(to: 8)
            let offset = UInt64(body.bytes.count)
            body.bytes.append(contentsOf: section)
            return offset
        }
        let stringsOffset = place(strings)
        let keysOffset = place(keyRecords.bytes)
        let postingsOffset = place(postings.bytes)
        let codesOffset = place(codeRecords.bytes)
        let gramsOffset = place(gramRecords.bytes)
        let gramPostingsOffset = place(gramPostingBytes.bytes)
        body.pad(to: 8)
        var header = ByteWriter()
        header.bytes.append(contentsOf: LexiconFormat.magic)
        header.u32(LexiconFormat.version); header.u32(0)
        header.u32(UInt32(keyList.count)); header.u32(postingCount); header.u32(UInt32(codeList.count))
        header.u32(UInt32(gramList.count)); header.u32(gramPostingCount); header.u32(0)
        header.u64(stringsOffset); header.u64(UInt64(strings.count))
        header.u64(keysOffset); header.u64(postingsOffset); header.u64(codesOffset)
        header.u64(gramsOffset); header.u64(gramPostingsOffset); header.u64(UInt64(body.bytes.count))
        body.bytes.replaceSubrange(0..<header.bytes.count, with: header.bytes)
        return body.bytes
    }

    /// Writes `<directory>/<fileName>` and its manifest `lexicon.json`; returns the manifest.
    @discardableResult
    public func write(
        to directory: URL, fileName: String = LexiconFormat.defaultFileName, abbreviations: String? = nil
    ) throws(LexiconError) -> LexiconManifest {
        let data = serialize()
        let fileURL = directory.appendingPathComponent(fileName)
        let manifestURL = directory.appendingPathComponent(LexiconFormat.manifestFileName)
        var postingTotal = 0
        for value in entries.values { postingTotal += value.count }
        let manifest = LexiconManifest(
            file: fileName, sha256: SHA256.hex(data), bytes: data.count, keys: entries.count, codes: codes.count,
            postings: postingTotal, sources: sourceNotes, abbreviations: abbreviations)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let json: Data
        do { json = try encoder.encode(manifest) } catch {
            throw .io(path: manifestURL.path, reason: "cannot encode the manifest: \(error)")
        }
        // The index first, its manifest (with the index's checksum) last: a reader never finds a
        // manifest describing an index that is not wholly on disk.
        do {
            try AtomicFile.write(data, to: fileURL)
            try AtomicFile.write(Array(json) + [0x0A], to: manifestURL)
        } catch {
            throw .io(path: error.path, reason: "\(error.what): \(String(cString: strerror(error.code)))")
        }
        return manifest
    }
}
