#if canImport(Glibc)
import Glibc
#endif
import MedtagFormats
import MedtagPipeline
import MedtagText
import SystemPackage

/// Gives a document's text one piece at a time; nil once the text is used up.
typealias PieceSource = () throws(SpoolError) -> String?

/// Gives a document's annotated pieces one at a time; nil once the document is used up.
typealias AnnotatedSource = () throws(SpoolError) -> RoutedDocument?

/// Reads a plain-text file piece by piece: a buffer of at most two pieces is filled from the file,
/// cut by a ``TextChunker`` and decoded with the checks of ``TextInput``. Only those two pieces are
/// in memory, whatever the size of the file.
public final class PieceReader {
    /// Why the next piece could not be had.
    public enum Failure: Error, CustomStringConvertible {
        case read(Errno)
        /// The file grew past the limit while it was read.
        case tooLarge
        /// The text is not valid (binary, not UTF-8, empty).
        case decode(InputError)

        public var description: String {
            switch self {
            case .read(let errno): "cannot read the file (\(errno))"
            case .tooLarge: "the file grew past its size limit while it was read"
            case .decode(let error): error.reason
            }
        }
    }

    public let chunker: TextChunker
    /// Most bytes read before ``Failure/tooLarge``.
    public let limit: Int
    private var descriptor: FileDescriptor?
    private var buffer: [UInt8] = []
    private var decoder = TextInput.Decoder()
    private var atEnd = false
    private var finished = false
    private var total = 0
    /// The file's size when it was opened.
    public let size: Int

    /// - Parameter size: the file's size when opened; reads are sized to it, so a small file costs no big buffer.
    private init(descriptor: FileDescriptor, size: Int, chunker: TextChunker, limit: Int) {
        self.descriptor = descriptor
        self.size = size
        self.chunker = chunker
        self.limit = limit
    }

    /// Bytes of the file given out as pieces so far.
    public var bytesDecoded: Int { decoder.bytesRead }

    /// Opens a file (symbolic links are not followed) to be read in pieces of at most `pieceBytes`.
    public convenience init(path: FilePath, pieceBytes: Int, limit: Int = .max) throws(Errno) {
        let opened = try Sys.openForReading(path)
        self.init(descriptor: opened.descriptor, size: opened.size, chunker: TextChunker(maximumBytes: pieceBytes), limit: limit)
    }

    deinit { close() }

    /// The next piece of text; nil after the last, once the whole file is known to be valid text.
    public func next() throws(Failure) -> String? {
        guard !finished else { return nil }
        while true {
            let piece = buffer.withUnsafeBufferPointer { chunker.nextPiece(in: $0, isComplete: atEnd) }
            if let piece {
                let text: String
                do {
                    text = try buffer.withUnsafeBufferPointer { bytes throws(InputError) in
                        try decoder.decode(UnsafeBufferPointer(rebasing: bytes[..<piece.length]))
                    }
                } catch {
                    throw .decode(error)
                }
                buffer.removeFirst(piece.length)
                return text
            }
            if atEnd {
                finished = true
                close()
                do { try decoder.finish() } catch { throw .decode(error) }
                return nil
            }
            guard let descriptor else { return nil }
            let count: Int
            // One byte more than expected, so the end of the file is seen without a second large read.
            let wanted = min(chunker.maximumBytes, max(size - total, 0) + 1)
            do { count = try Sys.readAppending(descriptor, to: &buffer, count: wanted) } catch { throw .read(error) }
            total += count
            if total > limit { throw .tooLarge }
            if count == 0 { atEnd = true }
        }
    }

    private func close() {
        if let descriptor { _ = Glibc.close(descriptor.rawValue) }
        descriptor = nil
    }
}

/// Result files in the staging folder, created new (with their folders) and written piece by piece.
final class ResultFiles {
    private var files: [(name: String, path: FilePath, descriptor: FileDescriptor)] = []

    /// Creates the (empty) files; `names` are relative to `folder` and may name sub-folders.
    init(folder: FilePath, names: [String]) throws(SpoolError) {
        for name in names {
            let path = folder.appending(name)
            do {
                try Sys.mkdirs(path.removingLastComponent())
                files.append((name, path, try Sys.createNewFile(path)))
            } catch {
                throw SpoolError(stage: .render, path: path.string, reason: "cannot write a result file", errno: error)
            }
        }
    }

    deinit { close() }

    /// Appends the bytes of each piece named like one of the files; other names are not for these files.
    func append(_ pieces: [(fileName: String, bytes: [UInt8])]) throws(SpoolError) {
        for piece in pieces where !piece.bytes.isEmpty {
            guard let file = files.first(where: { $0.name == piece.fileName }) else { continue }
            do { try Sys.writeAll(file.descriptor, piece.bytes) } catch {
                throw SpoolError(stage: .render, path: file.path.string, reason: "cannot write a result file", errno: error)
            }
        }
    }

    /// Closes the files once every piece is written. They are not flushed one by one: publishing
    /// the staging folder flushes all of an input's files at once (``Publisher/syncTree(_:)``).
    func finish() throws(SpoolError) {
        close()
    }

    func close() {
        for file in files { _ = Glibc.close(file.descriptor.rawValue) }
        files = []
    }
}
