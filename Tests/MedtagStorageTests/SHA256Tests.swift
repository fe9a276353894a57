import MedtagStorage
import Testing

struct SHA256Tests {
    @Test func sha256KnownVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(SHA256.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hashingInPartsGivesTheDigestOfTheWhole() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<5_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = SHA256.hex(bytes)
        // Parts of every size around the 64-byte block: 0, 1, 63, 64, 65 and random ones.
        for sizes in [[0, 1, 63, 64, 65], [4_999], [7], [64], [128, 3]] + (0..<5).map({ _ in [Int.random(in: 1...300)] }) {
            var hasher = SHA256.Hasher()
            var start = 0
            var k = 0
            while start < bytes.count {
                let end = min(bytes.count, start + sizes[k % sizes.count])
                hasher.update(Array(bytes[start..<end]))
                start = end
                k += 1
            }
            #expect(hasher.finalize() == whole, "parts of \(sizes)")
        }
    }
}
