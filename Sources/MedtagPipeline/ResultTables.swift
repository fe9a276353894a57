import Foundation
import MedtagFormats
import MedtagStorage

/// The tables of a `medtag annotate` run (``ResultTable``): each document's rows are kept until the
/// end and written in the order of the documents' keys, header once, so a run split into shards and
/// merged gives the same bytes as one process.
public struct ResultTables: Sendable {
    /// The tables written, in order.
    public let names: [String]
    private var documents: [(key: String, rows: [String: [UInt8]])] = []

    public init(formats: [OutputFormat]) { names = ResultTable.names(for: formats) }

    /// Keeps the table rows among a document's rendered pieces.
    public mutating func add(key: String, pieces: [(fileName: String, bytes: [UInt8])]) {
        guard !names.isEmpty else { return }
        var rows: [String: [UInt8]] = [:]
        for piece in pieces where ResultTable.isTable(piece.fileName) { rows[piece.fileName, default: []] += piece.bytes }
        documents.append((key, rows))
    }

    /// Writes every table to `url(name)`; returns their checksums and where each document's rows lie.
    public func write(
        to url: (String) -> URL
    ) throws -> (files: [ShardManifest.OutputFile], slices: [String: [ShardManifest.TableSlice]]) {
        var files: [ShardManifest.OutputFile] = []
        var slices: [String: [ShardManifest.TableSlice]] = [:]
        let sorted = documents.sorted { $0.key < $1.key }
        for name in names {
            let writer = try AtomicFile.Writer(url: url(name))
            try writer.write(ResultTable.header(name))
            for document in sorted {
                let rows = document.rows[name] ?? []
                slices[document.key, default: []].append(.init(name: name, offset: writer.count, bytes: rows.count))
                try writer.write(rows)
            }
            files.append(.init(name: name, sha256: try writer.commit(), bytes: writer.count))
        }
        return (files, slices)
    }
}
