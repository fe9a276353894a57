// libFuzzer harness: the tokenizer and sentence splitter on arbitrary text, Spanish and English rules.
// Besides not crashing, every token and sentence must lie inside the text, in order, without
// overlap, and a token's text must be the text at its offsets.
import MedtagText

let tokenizers = [Tokenizer(rules: .spanish), Tokenizer(rules: .english)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
    for tokenizer in tokenizers {
        let (tokens, sentences) = tokenizer.analyze(scalars)
        var previousEnd = 0
        for token in tokens {
            precondition(token.start >= previousEnd && token.start < token.end && token.end <= scalars.count, "token out of order or bounds")
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[token.start..<token.end])
            precondition(String(text) == token.text, "token text differs from the text at its offsets")
            previousEnd = token.end
        }
        var previousSentence = 0
        for sentence in sentences {
            precondition(sentence.tokens.lowerBound >= previousSentence && sentence.tokens.upperBound <= tokens.count, "sentence tokens out of range")
            precondition(sentence.start <= sentence.end && sentence.end <= scalars.count, "sentence out of bounds")
            for k in sentence.tokens {
                precondition(tokens[k].start >= sentence.start && tokens[k].end <= sentence.end, "token outside its sentence")
            }
            previousSentence = sentence.tokens.upperBound
        }
    }
    return 0
}
