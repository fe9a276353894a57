import Foundation
import MedtagFormats
import MedtagStorage

/// Joins the shards of a batch run into one result set, after checking every shard is whole.
public enum ShardMerge {
    /// What the merged result holds.
    public struct Summary: Codable, Sendable {
        public var shards: Int
        public var documents: Int
        public var entities: Int
        public var tokens: Int
        /// Documents per language they were annotated as.
        public var languages: [String: Int]
        public var failures: [ShardManifest.Failure]
    }

    /// File names of the combined outputs in the result folder.
    public static let combinedCSV = ResultTable.csvName
    public static let combinedTSV = ResultTable.tsvName
    public static let summaryFile = "medtag-summary.json"

    /// The complete manifests of shards 0..<N in `output`, or an error naming every missing,
    /// partial or damaged shard by number.
    public static func check(_ output: URL, expected: Int? = nil) throws -> [ShardManifest] {
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
        var found: [Int: Set<Int>] = [:]  // N → indices
        for name in names {
            let parts = name.split(separator: "-")
            guard parts.count == 4, parts[0] == "shard", parts[2] == "of", let k = Int(parts[1]), let n = Int(parts[3]) else { continue }
            found[n, default: []].insert(k)
        }
        guard let n = expected ?? (found.count == 1 ? found.keys.first : nil) else {
            if found.isEmpty { throw ShardError("\(output.path): no shard-K-of-N folders to merge") }
            throw ShardError("\(output.path): shards of different counts (\(found.keys.sorted().map { "of-\($0)" }.joined(separator: ", "))); give --shards N")
        }
        var problems: [String] = []
        var manifests: [ShardManifest] = []
        for k in 0..<n {
            let dir = output.appendingPathComponent("shard-\(k)-of-\(n)")
            guard found[n]?.contains(k) == true else {
                problems.append("shard \(k) of \(n): missing")
                continue
            }
            guard let manifest = try? ShardWriter.readManifest(dir) else {
                problems.append("shard \(k) of \(n): partial (no readable manifest.json)")
                continue
            }
            guard manifest.complete, manifest.shard == k, manifest.shards == n else {
                problems.append("shard \(k) of \(n): partial or mislabelled manifest")
                continue
            }
            for file in manifest.documents.flatMap(\.files) + (manifest.tables ?? []) {
                let url = dir.appendingPathComponent(file.name)
                guard let data = try? Data(contentsOf: url) else {
                    problems.append("shard \(k) of \(n): \(file.name) is missing")
                    continue
                }
                if data.count != file.bytes || SHA256.hex(Array(data)) != file.sha256 {
                    problems.append("shard \(k) of \(n): \(file.name) does not match its checksum")
                }
            }
            manifests.append(manifest)
        }
        var owner: [String: Int] = [:]
        for manifest in manifests {
            for key in manifest.documents.map(\.key) + manifest.failures.map(\.key) {
                if let other = owner[key] { problems.append("document \(key) appears in shards \(other) and \(manifest.shard)") }
                owner[key] = manifest.shard
            }
        }
        guard problems.isEmpty else { throw ShardError(problems.joined(separator: "\n")) }
        return manifests
    }

    /// Checks the shards, then writes every document's files, the combined CSV and TSV, and a
    /// summary into `output`. Nothing is written when a shard is missing or damaged.
    @discardableResult
    public static func merge(_ output: URL, expected: Int? = nil) throws -> Summary {
        let manifests = try check(output, expected: expected)
        var records: [(shard: Int, record: ShardManifest.DocumentRecord)] = []
        for m in manifests { records += m.documents.map { (m.shard, $0) } }
        records.sort { $0.record.key < $1.record.key }
        let n = manifests.first?.shards ?? 0
        func folder(_ shard: Int) -> URL { output.appendingPathComponent("shard-\(shard)-of-\(n)") }
        for (shard, record) in records {
            for file in record.files {
                let bytes = Array(try Data(contentsOf: folder(shard).appendingPathComponent(file.name)))
                try AtomicFile.write(bytes, to: output.appendingPathComponent(file.name))
            }
        }
        // The tables: each document's rows, cut from its shard's table, in the order of the keys.
        for name in manifests.first?.tables?.map(\.name) ?? [] {
            var shardTables: [Int: [UInt8]] = [:]
            for manifest in manifests {
                shardTables[manifest.shard] = Array(try Data(contentsOf: folder(manifest.shard).appendingPathComponent(name)))
            }
            var table = ResultTable.header(name)
            for (shard, record) in records {
                guard let slice = record.rows?.first(where: { $0.name == name }), let bytes = shardTables[shard],
                    slice.offset >= 0, slice.offset + slice.bytes <= bytes.count
                else { throw ShardError("shard \(shard) of \(n): \(name) does not list the rows of \(record.key)") }
                table += bytes[slice.offset..<(slice.offset + slice.bytes)]
            }
            try AtomicFile.write(table, to: output.appendingPathComponent(name))
        }
        let summary = Summary(
            shards: n, documents: records.count, entities: records.reduce(0) { $0 + $1.record.entities },
            tokens: records.reduce(0) { $0 + $1.record.tokens },
            languages: records.reduce(into: [:]) { counts, item in
                if let language = item.record.language { counts[language, default: 0] += 1 }
            },
            failures: manifests.flatMap(\.failures).sorted { $0.key < $1.key })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(summary)) + [10], to: output.appendingPathComponent(summaryFile))
        return summary
    }
}
