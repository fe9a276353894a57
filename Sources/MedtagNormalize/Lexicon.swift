import Foundation
import MedtagStorage

/// One piece of evidence that a key denotes a code.
public struct Posting: Sendable, Hashable {
    /// Index of the code in the lexicon's code table; nil for a name known without a code.
    public var code: Int?
    /// Corpus mentions of this key annotated with this code.
    public var count: Int
    /// Of those, mentions labelled as proteins.
    public var proteinCount: Int
    /// Where the evidence came from.
    public var sources: LexiconSources
}

/// A concept in the lexicon's code table.
public struct CodeInfo: Sendable, Hashable {
    /// The concept id (SNOMED-CT id, another scheme's id, or `<null>`).
    public var code: String
    /// The term shown for it: an RF2 preferred term if imported, else its most frequent corpus mention.
    public var term: String
    /// Corpus mentions annotated with this code.
    public var count: Int
    /// Of those, mentions labelled as proteins.
    public var proteinCount: Int
}

/// A read-only lexicon backed by a memory-mapped file.
///
/// Opening checks the header and section bounds (and, if asked, the SHA-256
/// from the manifest) but parses no entries: keys and codes are found by
/// binary search over sorted tables, approximate matches through a character
/// trigram index.
public final class Lexicon: Sendable {
    private let file: MappedFile
    /// Path of the lexicon file.
    public var path: String { file.path }
    /// Number of distinct keys.
    public let keyCount: Int
    /// Number of distinct codes.
    public let codeCount: Int
    private let postingCount: Int
    private let gramCount: Int
    private let gramPostingCount: Int
    private let stringsOffset: Int
    private let stringsSize: Int
    private let keysOffset: Int
    private let postingsOffset: Int
    private let codesOffset: Int
    private let gramsOffset: Int
    private let gramPostingsOffset: Int
    /// Most gram postings read per approximate lookup. Query trigrams are read rarest first; the
    /// common ones past the budget are skipped (and count thresholds lowered accordingly), which
    /// bounds the work per lookup however large the lexicon.
    public let postingBudget: Int
    /// Most candidates verified exactly (edit distance or trigram sets) per approximate lookup.
    public let verifyLimit: Int

    /// Opens the lexicon described by `<directory>/lexicon.json`.
    /// - Parameter verify: check the file's SHA-256 against the manifest (reads the whole file once).
    public static func open(directory: URL, verify: Bool = true) throws(LexiconError) -> Lexicon {
        let manifestURL = directory.appendingPathComponent(LexiconFormat.manifestFileName)
        let manifest: LexiconManifest
        do {
            let data = try Data(contentsOf: manifestURL)
            manifest = try JSONDecoder().decode(LexiconManifest.self, from: data)
        } catch let error as DecodingError {
            throw .corrupt(path: manifestURL.path, reason: "manifest is not valid: \(error)")
        } catch {
            throw .io(path: manifestURL.path, reason: "cannot read manifest: \(error.localizedDescription)")
        }
        guard manifest.format == "medtag-lexicon" else {
            throw .corrupt(path: manifestURL.path, reason: "format is \"\(manifest.format)\", expected \"medtag-lexicon\"")
        }
        guard manifest.formatVersion == Int(LexiconFormat.version) else {
            throw .corrupt(
                path: manifestURL.path,
                reason: "format version \(manifest.formatVersion), this build reads version \(LexiconFormat.version)")
        }
        let fileURL = directory.appendingPathComponent(manifest.file)
        return try Lexicon(path: fileURL.path, expectedSHA256: verify ? manifest.sha256 : nil, expectedSize: manifest.bytes)
    }

    /// Maps a lexicon file directly.
    /// - Parameters:
    ///   - expectedSHA256: if given, the file's hex SHA-256 must equal it.
    ///   - expectedSize: if given, the file's size must equal it.
    public init(
        path: String, expectedSHA256: String? = nil, expectedSize: Int? = nil, postingBudget: Int = 16_000,
        verifyLimit: Int = 128
    ) throws(LexiconError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            if error.empty { throw .corrupt(path: path, reason: "file is 0 bytes, shorter than the \(LexiconFormat.headerSize)-byte header") }
            throw .io(path: path, reason: error.reason)
        }
        let b = file.bytes
        self.file = file
        self.postingBudget = postingBudget
        self.verifyLimit = verifyLimit
        guard b.count >= LexiconFormat.headerSize else {
            throw .corrupt(path: path, reason: "file is \(b.count) bytes, shorter than the \(LexiconFormat.headerSize)-byte header")
        }
        guard Array(b[0..<8]) == LexiconFormat.magic else {
            throw .corrupt(path: path, reason: "bad magic: not a medtag lexicon file")
        }
        let version = b.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard version == LexiconFormat.version else {
            throw .corrupt(path: path, reason: "format version \(version), this build reads version \(LexiconFormat.version)")
        }
        func u32(_ o: Int) -> Int { Int(b.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian) }
        func u64(_ o: Int) -> Int { Int(truncatingIfNeeded: b.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian) }
        keyCount = u32(16); postingCount = u32(20); codeCount = u32(24); gramCount = u32(28); gramPostingCount = u32(32)
        stringsOffset = u64(40); stringsSize = u64(48); keysOffset = u64(56); postingsOffset = u64(64)
        codesOffset = u64(72); gramsOffset = u64(80); gramPostingsOffset = u64(88)
        let total = u64(96)
        guard total == b.count else {
            throw .corrupt(path: path, reason: "header says \(total) bytes but the file has \(b.count) (truncated or padded)")
        }
        if let expectedSize, expectedSize != b.count {
            throw .corrupt(path: path, reason: "manifest says \(expectedSize) bytes but the file has \(b.count)")
        }
        let sections: [(String, Int, Int)] = [
            ("strings", stringsOffset, stringsSize),
            ("keys", keysOffset, keyCount * LexiconFormat.keyRecordSize),
            ("postings", postingsOffset, postingCount * LexiconFormat.postingSize),
            ("codes", codesOffset, codeCount * LexiconFormat.codeRecordSize),
            ("grams", gramsOffset, gramCount * LexiconFormat.gramRecordSize),
            ("gram postings", gramPostingsOffset, gramPostingCount * 4),
        ]
        for (name, offset, size) in sections where offset < LexiconFormat.headerSize || size < 0 || offset + size > b.count {
            throw .corrupt(path: path, reason: "\(name) section [\(offset), +\(size)) lies outside the file")
        }
        if let expectedSHA256 {
            let actual = SHA256.hex(b)
            guard actual == expectedSHA256.lowercased() else {
                throw .corrupt(path: path, reason: "SHA-256 \(actual) does not match the manifest's \(expectedSHA256)")
            }
        }
    }

    // MARK: raw access

    @inline(__always) private func u16(_ o: Int) -> Int { Int(file.bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian) }
    @inline(__always) private func u32(_ o: Int) -> Int { Int(file.bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian) }
    @inline(__always) private func u64(_ o: Int) -> UInt64 { file.bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian }

    private func string(offset: Int, length: Int) -> String {
        let start = stringsOffset + offset
        guard offset >= 0, length >= 0, offset + length <= stringsSize else { return "" }
        return String(decoding: UnsafeRawBufferPointer(rebasing: file.bytes[start..<start + length]), as: UTF8.self)
    }

    private func compareString(offset: Int, length: Int, with query: [UInt8]) -> Int {
        guard offset + length <= stringsSize else { return 1 }  // damaged record: never equal
        let start = stringsOffset + offset
        let n = min(length, query.count)
        let c = query.withUnsafeBytes { q in memcmp(file.bytes.baseAddress! + start, q.baseAddress!, n) }
        if c != 0 { return c < 0 ? -1 : 1 }
        return length == query.count ? 0 : (length < query.count ? -1 : 1)
    }

    private func keyRecord(_ i: Int) -> Int { keysOffset + i * LexiconFormat.keyRecordSize }

    // MARK: keys

    /// The key stored at `index`.
    public func key(at index: Int) -> String {
        let r = keyRecord(index)
        return string(offset: u32(r), length: u16(r + 4))
    }

    /// Length of the key at `index` in Unicode scalars.
    public func keyLength(at index: Int) -> Int { u16(keyRecord(index) + 6) }

    /// Index of the entry whose key is exactly `key` (already folded with `TermKey.key`).
    public func entry(forKey key: String) -> Int? {
        let query = Array(key.utf8)
        guard !query.isEmpty, keyCount > 0 else { return nil }
        var lo = 0, hi = keyCount - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let r = keyRecord(mid)
            let c = compareString(offset: u32(r), length: u16(r + 4), with: query)
            if c == 0 { return mid }
            if c < 0 { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    /// The postings of the entry at `index`, most frequent first.
    public func postings(entry index: Int) -> [Posting] {
        let r = keyRecord(index)
        let start = u32(r + 8), count = u16(r + 12)
        var out: [Posting] = []
        out.reserveCapacity(count)
        for i in start..<max(start, min(start + count, postingCount)) {
            let p = postingsOffset + i * LexiconFormat.postingSize
            let c = u32(p)
            let code: Int? = (c == Int(LexiconFormat.noCode) || c >= codeCount) ? nil : c
            out.append(Posting(code: code, count: u32(p + 4), proteinCount: u32(p + 8), sources: LexiconSources(rawValue: UInt32(u32(p + 12)))))
        }
        return out
    }

    // MARK: codes

    /// The code at `index` in the code table.
    public func code(at index: Int) -> CodeInfo {
        let r = codesOffset + index * LexiconFormat.codeRecordSize
        return CodeInfo(
            code: string(offset: u32(r), length: u16(r + 4)), term: string(offset: u32(r + 8), length: u16(r + 6)),
            count: u32(r + 12), proteinCount: u32(r + 16))
    }

    /// Index of `code` in the code table.
    public func codeIndex(for code: String) -> Int? {
        let query = Array(code.utf8)
        guard !query.isEmpty, codeCount > 0 else { return nil }
        var lo = 0, hi = codeCount - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let r = codesOffset + mid * LexiconFormat.codeRecordSize
            let c = compareString(offset: u32(r), length: u16(r + 4), with: query)
            if c == 0 { return mid }
            if c < 0 { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    // MARK: approximate search

    private func gramPostings(_ gram: UInt64) -> (start: Int, count: Int)? {
        var lo = 0, hi = gramCount - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let r = gramsOffset + mid * LexiconFormat.gramRecordSize
            let g = u64(r)
            if g == gram { return (u32(r + 8), u32(r + 12)) }
            if g < gram { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    /// Counts, for indexed keys sharing a trigram with `scalars`, how many distinct trigrams they share,
    /// reading posting lists rarest first within `postingBudget`. Returns the candidates with their
    /// counts (most shared first), the number of distinct query trigrams and how many were skipped.
    private func sharedGrams(_ scalars: [UInt32]) -> (shared: [(entry: Int, count: Int)], queryGrams: Int, skipped: Int) {
        let grams = LexiconFormat.grams(scalars)
        var lists: [(start: Int, count: Int)] = []
        for g in grams {
            if let p = gramPostings(g) { lists.append(p) }
        }
        lists.sort { $0.count < $1.count }
        var counts = [UInt16](repeating: 0, count: keyCount)
        var touched: [Int] = []
        var visited = 0
        var skipped = 0
        for (start, count) in lists {
            if visited > 0 && visited + count > postingBudget {
                skipped += 1
                continue
            }
            visited += count
            let end = max(start, min(start + count, gramPostingCount))
            for i in start..<end {
                let entry = u32(gramPostingsOffset + i * 4)
                guard entry < keyCount else { continue }
                if counts[entry] == 0 { touched.append(entry) }
                counts[entry] &+= 1
            }
        }
        // Bucket by count (at most the number of query grams), most shared first, entries ascending.
        var buckets = [[Int]](repeating: [], count: grams.count + 1)
        for entry in touched { buckets[min(Int(counts[entry]), grams.count)].append(entry) }
        var shared: [(entry: Int, count: Int)] = []
        shared.reserveCapacity(touched.count)
        for count in stride(from: grams.count, through: 1, by: -1) where !buckets[count].isEmpty {
            for entry in buckets[count].sorted() { shared.append((entry, count)) }
        }
        return (shared, grams.count, skipped)
    }

    /// Entries whose key is within `maxDistance` edits (Levenshtein) of `key`, with their distance.
    ///
    /// Candidates come from the trigram index (a key within k edits shares at least
    /// `grams(key) − 3k` distinct padded trigrams with the query), then the distance is
    /// computed exactly for at most `verifyLimit` of them. Digits must match exactly (`B14` is not `B12`).
    public func entries(near key: String, maxDistance: Int) -> [(entry: Int, distance: Int)] {
        let scalars = key.unicodeScalars.map(\.value)
        guard !scalars.isEmpty else { return [] }
        let (shared, queryGrams, skipped) = sharedGrams(scalars)
        let needed = max(1, queryGrams - 3 * maxDistance - skipped)
        let digits = TermKey.digits(scalars)
        var out: [(entry: Int, distance: Int)] = []
        var verified = 0
        for (entry, count) in shared {
            if count < needed || verified >= verifyLimit { break }
            let length = keyLength(at: entry)
            guard abs(length - scalars.count) <= maxDistance else { continue }
            let candidate = self.key(at: entry).unicodeScalars.map(\.value)
            guard TermKey.digits(candidate) == digits else { continue }
            verified += 1
            if let d = EditDistance.levenshtein(scalars, candidate, limit: maxDistance) {
                out.append((entry, d))
            }
        }
        return out.sorted { $0.distance != $1.distance ? $0.distance < $1.distance : $0.entry < $1.entry }
    }

    /// Entries whose key has a character-trigram Dice similarity of at least `minimum` with `key`,
    /// best first (at most `limit`). Similarity is exact for the candidates verified.
    public func entries(similarTo key: String, minimum: Double, limit: Int = 10) -> [(entry: Int, similarity: Double)] {
        let scalars = key.unicodeScalars.map(\.value)
        guard !scalars.isEmpty else { return [] }
        let (shared, queryGrams, skipped) = sharedGrams(scalars)
        let queryGramSet = skipped > 0 ? Set(LexiconFormat.grams(scalars)) : []
        var out: [(entry: Int, similarity: Double)] = []
        for (entry, count) in shared.prefix(verifyLimit) {
            let candidateGrams = u16(keyRecord(entry) + 14)
            var common = count
            if skipped > 0 {
                common = LexiconFormat.grams(self.key(at: entry).unicodeScalars.map(\.value)).reduce(0) { $0 + (queryGramSet.contains($1) ? 1 : 0) }
            }
            let dice = 2.0 * Double(common) / Double(queryGrams + candidateGrams)
            if dice >= minimum { out.append((entry, dice)) }
        }
        out.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.entry < $1.entry }
        return Array(out.prefix(limit))
    }
}

/// Edit distances.
public enum EditDistance {
    /// Levenshtein distance between `a` and `b` if it is at most `limit`, else nil (banded, early exit).
    public static func levenshtein(_ a: [UInt32], _ b: [UInt32], limit: Int) -> Int? {
        if abs(a.count - b.count) > limit { return nil }
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = current[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMin = min(rowMin, current[j])
            }
            if rowMin > limit { return nil }
            swap(&previous, &current)
        }
        return previous[b.count] <= limit ? previous[b.count] : nil
    }

    /// Whether an optimal edit script from `a` to `b` changes a protected position of `a`.
    /// A substitution or deletion touches its position; an insertion touches the positions on both sides.
    public static func editTouches(_ a: [UInt32], _ b: [UInt32], protected: [Bool]) -> Bool {
        guard protected.contains(true) else { return false }
        let n = a.count, m = b.count
        var d = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in 0...n { d[i][0] = i }
        for j in 0...m { d[0][j] = j }
        if n > 0 && m > 0 {
            for i in 1...n {
                for j in 1...m {
                    d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
            }
        }
        func isProtected(_ i: Int) -> Bool { i >= 0 && i < n && protected[i] }
        var i = n, j = m
        while i > 0 || j > 0 {
            if i > 0, j > 0, a[i - 1] == b[j - 1], d[i][j] == d[i - 1][j - 1] {
                i -= 1; j -= 1
            } else if i > 0, j > 0, d[i][j] == d[i - 1][j - 1] + 1 {
                if isProtected(i - 1) { return true }
                i -= 1; j -= 1
            } else if i > 0, d[i][j] == d[i - 1][j] + 1 {
                if isProtected(i - 1) { return true }
                i -= 1
            } else {
                if isProtected(i - 1) || isProtected(i) { return true }
                j -= 1
            }
        }
        return false
    }
}
