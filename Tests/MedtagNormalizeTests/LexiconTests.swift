import Foundation
import Testing

@testable import MedtagNormalize
import MedtagTestSupport

@Suite struct LexiconTests {
    static func sample() -> LexiconBuilder {
        var b = LexiconBuilder()
        b.addMention(text: "lactato deshidrogenasa", label: "PROTEINAS", code: "259319003")
        b.addMention(text: "LDH", label: "PROTEINAS", code: "259319003")
        b.addMention(text: "LDH", label: "PROTEINAS", code: "259319003")
        b.addMention(text: "fentanilo", label: "NORMALIZABLES", code: "373492002")
        b.addMention(text: "ácido acetilsalicílico", label: "NORMALIZABLES", code: "387458008")
        b.addMention(text: "Cr", label: "NORMALIZABLES", code: "15373003")
        b.addMention(text: "Cr", label: "NORMALIZABLES", code: "15373003")
        b.addMention(text: "Cr", label: "PROTEINAS", code: "111070004")
        b.addMention(text: "drogas", label: "UNCLEAR", code: "<null>")
        b.addMention(text: "metotrexato", label: "NORMALIZABLES", code: "387381009")
        b.addName("digoxina")
        return b
    }

    @Test func roundTripExactLookup() throws {
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        let manifest = try Self.sample().write(to: dir)
        let lexicon = try Lexicon.open(directory: dir)
        #expect(lexicon.keyCount == manifest.keys)
        let entry = try #require(lexicon.entry(forKey: TermKey.key("Lactato-Deshidrogenasa")))
        let posting = try #require(lexicon.postings(entry: entry).first)
        #expect(lexicon.code(at: try #require(posting.code)).code == "259319003")
        #expect(lexicon.code(at: try #require(posting.code)).term == "LDH")  // most frequent mention
        #expect(lexicon.entry(forKey: "noexiste") == nil)
        #expect(lexicon.codeIndex(for: "373492002") != nil)
        let digoxina = try #require(lexicon.entry(forKey: "digoxina"))
        #expect(lexicon.postings(entry: digoxina).allSatisfy { $0.code == nil && $0.sources.contains(.nameList) })
        let manifestJSON = try String(contentsOf: dir.appendingPathComponent("lexicon.json"), encoding: .utf8)
        #expect(manifestJSON.contains("\"sha256\""))
        #expect(manifest.sha256.count == 64)
    }

    @Test func approximateSearchUsesIndex() throws {
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try Self.sample().write(to: dir)
        let lexicon = try Lexicon.open(directory: dir)
        let near = lexicon.entries(near: TermKey.key("lacticodeshidrogenasa"), maxDistance: 4)
        #expect(near.first.map { lexicon.key(at: $0.entry) } == "lactatodeshidrogenasa")
        #expect(near.first?.distance == 2)
        // Digits must agree exactly.
        var b = LexiconBuilder()
        b.addMention(text: "vitamina B12", label: "NORMALIZABLES", code: "419679002")
        try b.write(to: dir)
        let other = try Lexicon.open(directory: dir)
        #expect(other.entries(near: TermKey.key("vitamina B14"), maxDistance: 2).isEmpty)
    }

    /// Opening maps the file and reads the header only: a file whose every entry byte is
    /// garbage still opens when the checksum is not verified (nothing was parsed), lookups
    /// into the damage find nothing instead of crashing, and verifying reports it clearly.
    @Test func openingDoesNotParseEntries() throws {
        var b = LexiconBuilder()
        for i in 0..<20_000 { b.addMention(text: "sustancia \(i)", label: "NORMALIZABLES", code: "\(100_000 + i)") }
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try b.write(to: dir)
        let file = dir.appendingPathComponent("lexicon.mtlx")
        let intact = try Lexicon.open(directory: dir)
        #expect(intact.entry(forKey: TermKey.key("sustancia 19999")) != nil)

        var bytes = try [UInt8](Data(contentsOf: file))
        for i in LexiconFormat.headerSize..<bytes.count { bytes[i] = 0x7A }
        try Data(bytes).write(to: file)
        let start = ContinuousClock.now
        let lexicon = try Lexicon.open(directory: dir, verify: false)
        let elapsed = ContinuousClock.now - start
        #expect(lexicon.keyCount == 20_000)
        #expect(elapsed < .milliseconds(100))
        #expect(lexicon.entry(forKey: TermKey.key("sustancia 1")) == nil)
        #expect(lexicon.entries(near: "sustancia1", maxDistance: 2).isEmpty)
        do {
            _ = try Lexicon.open(directory: dir, verify: true)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("lexicon.mtlx"))
            #expect(error.description.contains("SHA-256"))
        }
    }

    @Test func corruptFilesGiveClearErrors() throws {
        let dir = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(dir) }
        try Self.sample().write(to: dir)
        let file = dir.appendingPathComponent("lexicon.mtlx")
        let good = try Data(contentsOf: file)

        // Truncated.
        try good.prefix(good.count - 16).write(to: file)
        #expect(throws: LexiconError.self) { try Lexicon(path: file.path) }
        do {
            _ = try Lexicon(path: file.path)
        } catch {
            #expect(error.description.contains(file.path))
            #expect(error.description.contains("truncated"))
        }
        // Not a lexicon at all.
        try Data("hello, this is not a lexicon file at all".utf8 + [UInt8](repeating: 0, count: 200)).write(to: file)
        do {
            _ = try Lexicon(path: file.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("bad magic"))
        }
        // Shorter than the header.
        try Data([1, 2, 3]).write(to: file)
        do {
            _ = try Lexicon(path: file.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("shorter than"))
        }
        // A flipped byte is caught by the manifest checksum.
        var flipped = [UInt8](good)
        flipped[flipped.count / 2] ^= 0xFF
        try Data(flipped).write(to: file)
        do {
            _ = try Lexicon.open(directory: dir)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("does not match the manifest"))
        }
        // Missing manifest.
        let empty = try temporaryDirectory("normalize")
        defer { removeTemporaryDirectory(empty) }
        do {
            _ = try Lexicon.open(directory: empty)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("lexicon.json"))
        }
    }
}
