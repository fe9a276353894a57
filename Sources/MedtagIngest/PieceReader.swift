#if canImport(Glibc)
import Glibc
#endif
import MedtagText
import SystemPackage

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
        let opened = try InputFile.openForReading(path)
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
            do { count = try InputFile.readAppending(descriptor, to: &buffer, count: wanted) } catch { throw .read(error) }
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
