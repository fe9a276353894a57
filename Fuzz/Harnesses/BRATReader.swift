// libFuzzer harness: the BRAT .ann reader on arbitrary bytes. It must throw a FormatError or return
// entities whose offsets make sense; never crash.
import MedtagFormats
import MedtagText

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBRAT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let entities = try BRAT.parse(text)
        for entity in entities {
            precondition(entity.start >= 0 && entity.start <= entity.end, "entity with impossible offsets")
        }
    } catch {
        precondition(!error.description.isEmpty, "an error without a reason")
    }
    return 0
}
