// libFuzzer harness: plain-text input read in pieces, as the daemon reads a large file. The first
// byte picks the piece size (4 to 259 bytes), the second the read size; the rest is the file. Cutting
// must cover the bytes exactly, in pieces no larger than the size, never inside a UTF-8 character
// of valid text, the same whether the bytes arrive at once or read by read; and decoding piece by
// piece must give the text (or the error, at the same offset) of decoding the whole file.
import MedtagIngest
import MedtagText

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTextPieces(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let chunker = TextChunker(maximumBytes: 4 + Int(data[0]))
    let readSize = 1 + Int(data[1])
    let file = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))

    // At once.
    let whole = file.withUnsafeBufferPointer { chunker.pieces(of: $0) }
    var end = 0
    for range in whole {
        precondition(range.lowerBound == end && !range.isEmpty && range.count <= chunker.maximumBytes, "pieces must tile the bytes")
        end = range.upperBound
    }
    precondition(end == file.count, "pieces must cover every byte")

    // Read by read, as PieceReader fills its buffer.
    var buffer: [UInt8] = []
    var offset = 0
    var read = 0
    var atEnd = false
    var incremental: [Range<Int>] = []
    while true {
        if let piece = buffer.withUnsafeBufferPointer({ chunker.nextPiece(in: $0, isComplete: atEnd) }) {
            incremental.append(offset..<(offset + piece.length))
            offset += piece.length
            buffer.removeFirst(piece.length)
            continue
        }
        if atEnd { break }
        let next = file[read..<min(file.count, read + readSize)]
        if next.isEmpty { atEnd = true }
        buffer += next
        read += next.count
    }
    precondition(incremental == whole, "reading by parts must cut where reading at once does")

    // Decoding.
    var expected: Result<String, InputError>
    do throws(InputError) { expected = .success(try TextInput.decode(file)) } catch { expected = .failure(error) }
    var decoder = TextInput.Decoder()
    var text = ""
    var got: Result<String, InputError>
    do throws(InputError) {
        try file.withUnsafeBufferPointer { bytes throws(InputError) in
            for range in whole { text += try decoder.decode(UnsafeBufferPointer(rebasing: bytes[range])) }
        }
        try decoder.finish()
        got = .success(text)
    } catch {
        got = .failure(error)
    }
    switch (expected, got) {
    case (.success(let a), .success(let b)):
        precondition(a == b, "pieces must decode to the whole text")
        for range in whole where range.upperBound < file.count {
            precondition(file[range.upperBound] & 0xC0 != 0x80, "a piece of valid text must not end inside a character")
        }
    case (.failure(let a), .failure(let b)):
        // Which fault is named first may differ (a NUL in a later piece is found by the whole-file check
        // before a bad byte in an earlier one), but a bad UTF-8 byte is named at the same offset.
        precondition(a.code != "encoding" || b.code != "encoding" || a == b, "pieces must name the bad byte the whole file names")
    default:
        preconditionFailure("pieces and the whole file must agree on whether the text is valid")
    }
    return 0
}
