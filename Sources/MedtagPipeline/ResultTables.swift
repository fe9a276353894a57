import MedtagFormats

/// A run's tables (``ResultTable``) in a ``ResultSink``: each table's header, then every document's
/// rows.
///
/// In ``Order/arrival`` the tables are created at once and rows are appended as they come: the
/// daemon writes an input's documents in order, and a long document's rows piece by piece. In
/// ``Order/key`` each document's rows are kept until ``finish()``, which writes them in the order of
/// the documents' keys, so a `medtag annotate` run split into shards and merged gives the same
/// bytes as one process.
public final class ResultTables<Sink: ResultSink> {
    /// The order rows are written in.
    public enum Order: Sendable {
        /// As they come.
        case arrival
        /// By document key, once every document is in.
        case key
    }

    /// The tables written, in order.
    public let names: [String]
    public let order: Order
    /// The tables' files, by name, open until the caller ends them; empty until they are created.
    public private(set) var files: [(name: String, file: Sink.File)] = []
    /// Where each document's rows lie in the tables, by key; filled by ``finish()`` in ``Order/key``.
    public private(set) var slices: [String: [ShardManifest.TableSlice]] = [:]
    private let sink: Sink
    /// Bytes written to each file so far.
    private var sizes: [Int] = []
    private var held: [(key: String, rows: [String: [UInt8]])] = []

    /// The tables of `formats` in `sink`; in ``Order/arrival`` they are created now, with their headers.
    public init(formats: [OutputFormat], sink: Sink, order: Order) throws(Sink.Failure) {
        names = ResultTable.names(for: formats)
        self.sink = sink
        self.order = order
        if order == .arrival { try create() }
    }

    /// Takes the table rows among a document's rendered pieces (all of them, or one piece's).
    public func add(key: String, rows: [(fileName: String, bytes: [UInt8])]) throws(Sink.Failure) {
        guard !names.isEmpty else { return }
        switch order {
        case .arrival:
            for row in rows {
                guard let index = files.firstIndex(where: { $0.name == row.fileName }) else { continue }
                try append(row.bytes, to: index)
            }
        case .key:
            var tables: [String: [UInt8]] = [:]
            for row in rows where ResultTable.isTable(row.fileName) { tables[row.fileName, default: []] += row.bytes }
            held.append((key, tables))
        }
    }

    /// Writes the rows kept for ``Order/key`` and returns every table's file with its size; the
    /// caller ends the files as its sink wants (closed, or committed).
    public func finish() throws(Sink.Failure) -> [(name: String, file: Sink.File, bytes: Int)] {
        if order == .key {
            try create()
            for document in held.sorted(by: { $0.key < $1.key }) {
                for (index, name) in names.enumerated() {
                    let rows = document.rows[name] ?? []
                    slices[document.key, default: []].append(.init(name: name, offset: sizes[index], bytes: rows.count))
                    try append(rows, to: index)
                }
            }
            held = []
        }
        return files.indices.map { (files[$0].name, files[$0].file, sizes[$0]) }
    }

    private func create() throws(Sink.Failure) {
        for name in names {
            files.append((name, try sink.create(name)))
            sizes.append(0)
            try append(ResultTable.header(name), to: files.count - 1)
        }
    }

    private func append(_ bytes: [UInt8], to index: Int) throws(Sink.Failure) {
        guard !bytes.isEmpty else { return }
        try sink.append(bytes, to: files[index].file)
        sizes[index] += bytes.count
    }
}
