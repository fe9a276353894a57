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
    /// The text of a UTF-8 file. A leading byte order mark is dropped (offsets count from after it).
    public static func decode(_ bytes: [UInt8]) throws(InputError) -> String {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard !body.isEmpty else { throw InputError(code: "empty", reason: "the file is empty") }
        if let nul = body.firstIndex(of: 0) {
            throw InputError(code: "binary", reason: "byte \(nul) is NUL: this looks like a binary file, not text")
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            let offset = firstInvalidUTF8(body)
            throw InputError(
                code: "encoding",
                reason: "not valid UTF-8 (first bad byte at offset \(offset)); convert it, e.g. iconv -f latin1 -t utf-8")
        }
        if text.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) {
            throw InputError(code: "empty", reason: "the file holds only whitespace")
        }
        return text
    }

    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
        var low = 0
        var high = bytes.count
        // Longest valid prefix, by bisection over prefixes ending on a character boundary.
        while low < high {
            let mid = (low + high + 1) / 2
            var end = bytes.startIndex + mid
            while end > bytes.startIndex && end < bytes.endIndex && (bytes[end] & 0xC0) == 0x80 { end -= 1 }
            if String(validating: bytes[bytes.startIndex..<end], as: UTF8.self) != nil, end - bytes.startIndex >= mid {
                low = mid
            } else {
                high = mid - 1
            }
        }
        return low
    }
}
