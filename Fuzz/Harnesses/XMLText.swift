// libFuzzer harness: the XML text extractor and the UTF-8 input check on arbitrary bytes. Either a
// reasoned InputError or text; for invalid UTF-8, the offset reported must end a valid prefix.
@testable import MedtagIngest

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let text = try XMLText.extract(bytes)
        precondition(!text.contains("\u{0}"), "NUL in extracted text")
    } catch {
        precondition(!error.reason.isEmpty, "an error without a reason")
    }
    do {
        _ = try TextInput.decode(bytes)
    } catch {
        if error.code == "encoding" {
            var body = bytes[...]
            if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
            let offset = TextInput.firstInvalidUTF8(body)
            precondition(offset < body.count, "the first bad byte lies past the end")
            precondition(String(validating: body.prefix(offset), as: UTF8.self) != nil, "the prefix before the first bad byte is not valid")
        }
    }
    return 0
}
