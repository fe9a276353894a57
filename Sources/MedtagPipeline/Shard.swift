import Foundation
import MedtagStorage

/// One of N independent workers of a batch run, each taking the documents whose key hashes to it.
///
/// No coordinator: N processes given `0/N` … `N-1/N` cover every document exactly once, because
/// the key (the document's path inside the input) and the hash (FNV-1a, 64 bits) are stable.
public struct Shard: Hashable, Sendable, CustomStringConvertible {
    /// 0-based index of this shard.
    public let index: Int
    /// Number of shards.
    public let count: Int

    public init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1, index >= 0, index < count else {
            throw ShardError("shard \(index)/\(count) is out of range: use K/N with 0 ≤ K < N")
        }
        self.index = index
        self.count = count
    }

    /// Reads `K/N`.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw ShardError("'\(text)' is not a shard: use K/N, e.g. 0/4")
        }
        try self.init(index: k, count: n)
    }

    /// The shard a cluster engine assigned through the environment, if any.
    ///
    /// Slurm job arrays: `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`
    /// (the array must be a contiguous range, such as `--array=0-3` or `--array=1-4`).
    /// Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` of `shards` (the Job's `completions`), which
    /// must then be given (`--shards N`, or `MEDTAG_SHARDS`).
    public static func fromEnvironment(_ env: [String: String], shards: Int?) throws(ShardError) -> Shard? {
        if let id = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) {
            guard let n = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) else {
                throw ShardError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
            }
            let min = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
            return try Shard(index: id - min, count: shards ?? n)
        }
        if let index = env["JOB_COMPLETION_INDEX"].flatMap(Int.init) {
            guard let n = shards ?? env["MEDTAG_SHARDS"].flatMap(Int.init) else {
                throw ShardError("JOB_COMPLETION_INDEX is set: give the number of shards with --shards N (the Job's completions)")
            }
            return try Shard(index: index, count: n)
        }
        return nil
    }

    /// Whether this shard takes the document with this key.
    public func owns(_ key: String) -> Bool {
        Int(Self.hash(key) % UInt64(count)) == index
    }

    /// FNV-1a over the UTF-8 bytes of the key.
    public static func hash(_ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// `shard-K-of-N`.
    public var directoryName: String { "shard-\(index)-of-\(count)" }
    public var description: String { "\(index)/\(count)" }
}

/// A shard that cannot be used or merged.
public struct ShardError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What a shard wrote: every document with the checksum of each output, and every failure.
public struct ShardManifest: Codable, Sendable {
    public struct OutputFile: Codable, Sendable, Hashable {
        public var name: String
        public var sha256: String
        public var bytes: Int

        public init(name: String, sha256: String, bytes: Int) {
            self.name = name
            self.sha256 = sha256
            self.bytes = bytes
        }
    }
    /// Where a document's rows lie in one of the shard's tables (``ResultTable``).
    public struct TableSlice: Codable, Sendable, Hashable {
        public var name: String
        public var offset: Int
        public var bytes: Int
    }
    public struct DocumentRecord: Codable, Sendable {
        public var key: String
        public var tokens: Int
        public var entities: Int
        /// The language the document was annotated as (absent in manifests of older medtag versions).
        public var language: String?
        public var files: [OutputFile]
        /// The document's rows in the shard's tables.
        public var rows: [TableSlice]?
    }
    public struct Failure: Codable, Sendable {
        public var key: String
        public var reason: String
    }

    public var medtagVersion: String
    public var model: String
    public var shard: Int
    public var shards: Int
    public var documents: [DocumentRecord] = []
    public var failures: [Failure] = []
    /// The shard's tables (``ResultTable``): its documents' rows, in the order of their keys.
    public var tables: [OutputFile]?
    /// Written last: a manifest without it is partial.
    public var complete = false

    public init(medtagVersion: String, model: String, shard: Shard) {
        self.medtagVersion = medtagVersion
        self.model = model
        self.shard = shard.index
        self.shards = shard.count
    }

    public var entities: Int { documents.reduce(0) { $0 + $1.entities } }
}

/// Writes one shard's results into `OUT/shard-K-of-N/`, which appears only once complete.
public final class ShardWriter {
    public let shard: Shard
    public let final: URL
    private let staging: URL
    public private(set) var manifest: ShardManifest

    public init(output: URL, shard: Shard, model: String, medtagVersion: String) throws {
        self.shard = shard
        self.final = output.appendingPathComponent(shard.directoryName)
        self.staging = output.appendingPathComponent(".\(shard.directoryName).partial-\(getpid())")
        self.manifest = ShardManifest(medtagVersion: medtagVersion, model: model, shard: shard)
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
    }

    /// The folder the shard's files are written in before it is published.
    public var folder: URL { staging }

    /// Where a result file named `fileName` is written before the shard is published.
    public func fileURL(_ fileName: String) -> URL { staging.appendingPathComponent(fileName) }

    /// Records one document whose files were written (under ``fileURL(_:)``).
    public func add(key: String, tokens: Int, entities: Int, language: String? = nil, files: [ShardManifest.OutputFile]) {
        manifest.documents.append(.init(key: key, tokens: tokens, entities: entities, language: language, files: files))
    }

    public func fail(key: String, reason: String) {
        manifest.failures.append(.init(key: key, reason: reason))
    }

    /// Records the shard's tables, written in its folder, and where each document's rows lie in them.
    public func addTables(_ files: [ShardManifest.OutputFile], slices: [String: [ShardManifest.TableSlice]]) {
        manifest.tables = files
        for index in manifest.documents.indices {
            manifest.documents[index].rows = slices[manifest.documents[index].key]
        }
    }

    /// Writes the manifest and moves the shard into place, replacing an earlier run of it.
    public func publish() throws {
        manifest.complete = true
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try AtomicFile.write(Array(try encoder.encode(manifest)) + [10], to: staging.appendingPathComponent("manifest.json"))
        let fm = FileManager.default
        let parent = final.deletingLastPathComponent()
        if fm.fileExists(atPath: final.path) {
            let old = parent.appendingPathComponent(".\(shard.directoryName).old-\(getpid())")
            try fm.moveItem(at: final, to: old)
            try fm.moveItem(at: staging, to: final)
            try? fm.removeItem(at: old)
        } else {
            try fm.moveItem(at: staging, to: final)
        }
        try AtomicFile.syncDirectory(parent)
    }

    /// Reads a shard's manifest.
    public static func readManifest(_ directory: URL) throws -> ShardManifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ShardManifest.self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
    }
}
