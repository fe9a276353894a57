/// Text of an XML document, read by a small scanner that never resolves anything.
///
/// The Dublin Core `title` and `description` elements (any prefix) are taken when present, as in
/// the SciELO-derived corpora; otherwise every text node. A document whose DOCTYPE declares
/// entities (general or parameter) or names an external DTD (`SYSTEM` or `PUBLIC`) is refused with
/// ``XMLText/entitiesRefused`` or ``XMLText/externalDTDRefused``: such a file is written to read
/// local files (XXE) or to expand into gigabytes ("billion laughs"), and silently keeping its
/// references literal would hide that. A plain DOCTYPE (`<!DOCTYPE html>`, or an internal subset
/// without entities) is skipped. No DTD is ever loaded and no custom entity is ever expanded (a
/// reference to an undeclared one stays literal). Predefined and numeric character references are
/// decoded.
public enum XMLText {
    /// Largest element depth accepted.
    public static let maximumDepth = 256

    /// Error code of a document refused for its DOCTYPE (entity declarations or an external DTD).
    public static let doctypeErrorCode = "xml-doctype"

    /// The refusal of a DOCTYPE that declares entities.
    public static let entitiesRefused = InputError(
        code: doctypeErrorCode,
        reason: "XML declares entities in its DOCTYPE (external entities and entity expansion are refused for safety); "
            + "remove the DOCTYPE")

    /// The refusal of a DOCTYPE that refers to an external DTD.
    public static let externalDTDRefused = InputError(
        code: doctypeErrorCode,
        reason: "XML refers to an external DTD in its DOCTYPE (SYSTEM or PUBLIC; external entities and entity expansion "
            + "are refused for safety); remove the DOCTYPE")

    public static func extract(_ bytes: [UInt8]) throws(InputError) -> String {
        let source = try TextInput.decode(bytes)
        let s = Array(source.unicodeScalars)
        var i = 0
        var stack: [String] = []
        var allText: [String] = []
        var dublinCore: [(rank: Int, text: String)] = []
        var current = ""
        func flushText() {
            guard !current.isEmpty else { return }
            let name = stack.last.map(localName) ?? ""
            if let top = stack.last, top.contains(":") || top.hasPrefix("dc") || top.hasPrefix("DC") {
                if name == "title" { dublinCore.append((0, current)) }
                if name == "description" { dublinCore.append((1, current)) }
            }
            allText.append(current)
            current = ""
        }
        func starts(_ literal: String, at k: Int) -> Bool {
            var k = k
            for c in literal.unicodeScalars {
                guard k < s.count, s[k] == c else { return false }
                k += 1
            }
            return true
        }
        func find(_ literal: String, from k: Int) -> Int? {
            var k = k
            while k < s.count {
                if starts(literal, at: k) { return k }
                k += 1
            }
            return nil
        }
        while i < s.count {
            let c = s[i]
            if c == "<" {
                if starts("<!--", at: i) {
                    guard let end = find("-->", from: i + 4) else { throw malformed("unterminated comment") }
                    i = end + 3
                } else if starts("<![CDATA[", at: i) {
                    guard let end = find("]]>", from: i + 9) else { throw malformed("unterminated CDATA section") }
                    current.unicodeScalars.append(contentsOf: s[(i + 9)..<end])
                    i = end + 3
                } else if starts("<!", at: i) {
                    let end = try skipDeclaration(s, from: i)
                    try checkDeclaration(s[(i + 2)..<(end - 1)])
                    i = end
                } else if starts("<?", at: i) {
                    guard let end = find("?>", from: i + 2) else { throw malformed("unterminated processing instruction") }
                    i = end + 2
                } else {
                    flushText()
                    guard let end = tagEnd(s, from: i + 1) else { throw malformed("unterminated tag") }
                    var inner = String(String.UnicodeScalarView(s[(i + 1)..<end]))
                    i = end + 1
                    if inner.hasPrefix("/") {
                        inner.removeFirst()
                        let name = inner.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
                        guard let open = stack.last, open == name else {
                            throw malformed("closing tag </\(name)> does not match <\(stack.last ?? "")>")
                        }
                        stack.removeLast()
                    } else {
                        let selfClosing = inner.hasSuffix("/")
                        if selfClosing { inner.removeLast() }
                        let name = inner.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
                        guard !name.isEmpty else { throw malformed("a tag without a name") }
                        if !selfClosing {
                            stack.append(name)
                            if stack.count > maximumDepth { throw malformed("elements nested deeper than \(maximumDepth)") }
                        }
                    }
                }
            } else if c == "&" {
                var end = i + 1
                while end < s.count && end - i <= 12 && s[end] != ";" { end += 1 }
                let name = end < s.count && s[end] == ";" ? String(String.UnicodeScalarView(s[(i + 1)..<end])) : nil
                if let name, let decoded = characterReference(name) {
                    current.unicodeScalars.append(decoded)
                    i = end + 1
                } else {
                    current.unicodeScalars.append(c)  // unknown entity: stays literal, never expanded
                    i += 1
                }
            } else {
                current.unicodeScalars.append(c)
                i += 1
            }
        }
        flushText()
        guard stack.isEmpty else { throw malformed("element <\(stack.last!)> is never closed") }
        let chosen = dublinCore.isEmpty ? allText : dublinCore.sorted { $0.rank < $1.rank }.map(\.text)
        let text = chosen.map(trimmed).filter { !$0.isEmpty }.joined(separator: "\n\n")
        guard !text.isEmpty else { throw InputError(code: "empty", reason: "the XML document holds no text") }
        return text + "\n"
    }

    static func malformed(_ reason: String) -> InputError {
        InputError(code: "xml", reason: "malformed XML: \(reason)")
    }

    static func localName(_ qualified: String) -> String {
        qualified.split(separator: ":").last.map(String.init) ?? qualified
    }

    static func trimmed(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// End of a tag, skipping `>` inside quoted attribute values.
    static func tagEnd(_ s: [Unicode.Scalar], from start: Int) -> Int? {
        closingBracket(s, from: start, nested: false)
    }

    /// Skips `<!DOCTYPE …>` including an internal subset in brackets. Nothing in it is used.
    static func skipDeclaration(_ s: [Unicode.Scalar], from start: Int) throws(InputError) -> Int {
        guard let end = closingBracket(s, from: start + 2, nested: true) else { throw malformed("unterminated declaration") }
        return end + 1
    }

    /// Refuses a markup declaration (the text between `<!` and its `>`) that declares entities or
    /// refers to an external DTD: a DOCTYPE with `SYSTEM`/`PUBLIC` after its name, a DOCTYPE whose
    /// internal subset holds `<!ENTITY` (general or parameter entities), or a stray `<!ENTITY`.
    /// Keywords are matched in any case; anything else (`<!DOCTYPE html>`) passes.
    static func checkDeclaration(_ body: ArraySlice<Unicode.Scalar>) throws(InputError) {
        func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" }
        func upper(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
            String(String.UnicodeScalarView(scalars)).uppercased()
        }
        var k = body.startIndex
        while k < body.endIndex && !isSpace(body[k]) && body[k] != "[" { k += 1 }
        let keyword = upper(body[body.startIndex..<k])
        if keyword == "ENTITY" { throw entitiesRefused }
        guard keyword == "DOCTYPE" else { return }
        // `<!DOCTYPE name` then, optionally, an external id, then an optional `[internal subset]`.
        while k < body.endIndex && isSpace(body[k]) { k += 1 }
        while k < body.endIndex && !isSpace(body[k]) && body[k] != "[" { k += 1 }
        while k < body.endIndex && isSpace(body[k]) { k += 1 }
        var word = k
        while word < body.endIndex && !isSpace(body[word]) && body[word] != "[" && body[word] != "\"" && body[word] != "'" {
            word += 1
        }
        let externalID = upper(body[k..<word])
        if externalID == "SYSTEM" || externalID == "PUBLIC" { throw externalDTDRefused }
        if upper(body).contains("<!ENTITY") { throw entitiesRefused }
    }

    /// The index of the `>` that closes a markup construct: not inside quotes and, when `nested`,
    /// not inside `[…]` (a DTD's internal subset).
    static func closingBracket(_ s: [Unicode.Scalar], from start: Int, nested: Bool) -> Int? {
        var depth = 0
        var quote: Unicode.Scalar?
        var k = start
        while k < s.count {
            let c = s[k]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if nested && c == "[" {
                depth += 1
            } else if nested && c == "]" {
                depth -= 1
            } else if c == ">" && depth <= 0 {
                return k
            }
            k += 1
        }
        return nil
    }

    static func characterReference(_ name: String) -> Unicode.Scalar? {
        switch name {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default:
            guard name.hasPrefix("#") else { return nil }
            var digits = name.dropFirst()
            let hex = digits.hasPrefix("x") || digits.hasPrefix("X")
            if hex { digits = digits.dropFirst() }
            // Digits only (`UInt32` alone would take `+65`), and only characters XML allows: `&#0;` and
            // other control characters stay literal instead of putting NUL into the text.
            guard !digits.isEmpty, digits.allSatisfy({ hex ? $0.isHexDigit : ("0"..."9").contains($0) }),
                let value = UInt32(digits, radix: hex ? 16 : 10), let scalar = Unicode.Scalar(value),
                value == 0x9 || value == 0xA || value == 0xD || (value >= 0x20 && value != 0xFFFE && value != 0xFFFF)
            else { return nil }
            return scalar
        }
    }
}
