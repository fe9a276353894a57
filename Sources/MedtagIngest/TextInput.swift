/// Why an input could not be read as a document.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Stable short code for logs and `error.json` (`empty`, `binary`, `encoding`, `xml`).
    public var code: String
    public var reason: String

    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}

/// Plain text input: UTF-8, nothing else guessed.
public enum TextInput {
    /// The text of a UTF-8 file. A leading byte order mark is dropped (offsets count from after it);
    /// a UTF-16 one is refused with a hint to convert the file.
    public static func decode(_ bytes: [UInt8]) throws(InputError) -> String {
        var decoder = Decoder()
        let text = try bytes.withUnsafeBufferPointer { buffer throws(InputError) in try decoder.decode(buffer) }
        try decoder.finish()
        return text
    }

    /// Decodes a file piece by piece (as ``TextChunker`` cuts it), with the checks of
    /// ``TextInput/decode(_:)``; byte offsets in its errors count from the start of the file.
    public struct Decoder: Sendable {
        /// Bytes decoded so far.
        public private(set) var bytesRead = 0
        private var textBytes = 0
        private var sawText = false

        public init() {}

        /// The text of the next piece, which must start on a character boundary.
        public mutating func decode(_ piece: UnsafeBufferPointer<UInt8>) throws(InputError) -> String {
            var body = piece[...]
            if bytesRead == 0, body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
            if bytesRead == 0, body.starts(with: [0xFF, 0xFE]) || body.starts(with: [0xFE, 0xFF]) {
                throw InputError(
                    code: "encoding",
                    reason: "UTF-16 text (it starts with a UTF-16 byte order mark), not UTF-8; convert it, "
                        + "e.g. iconv -f utf-16 -t utf-8 FILE > FILE-utf8.txt")
            }
            let base = bytesRead
            bytesRead += piece.count
            if let nul = body.firstIndex(of: 0) {
                throw InputError(code: "binary", reason: "byte \(base + nul) is NUL: this looks like a binary file, not text")
            }
            guard let text = String(validating: body, as: UTF8.self) else {
                let offset = base + (body.startIndex - piece.startIndex) + TextInput.firstInvalidUTF8(ArraySlice(body))
                throw InputError(
                    code: "encoding",
                    reason: "not valid UTF-8 (first bad byte at offset \(offset)); convert it, e.g. iconv -f latin1 -t utf-8")
            }
            textBytes += body.count
            if !sawText { sawText = !text.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) }
            return text
        }

        /// Checks the file as a whole once every piece is decoded: it must hold some text.
        public func finish() throws(InputError) {
            guard textBytes > 0 else { throw InputError(code: "empty", reason: "the file is empty") }
            guard sawText else { throw InputError(code: "empty", reason: "the file holds only whitespace") }
        }
    }

    /// Offset of the first byte that does not start a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput, .error: return offset
            }
        }
    }
}
