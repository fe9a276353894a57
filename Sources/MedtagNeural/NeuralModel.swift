import CKernels
import Foundation
import MedtagModel
import MedtagStorage
import MedtagTagging
import Synchronization

/// How much of the model directory to check against the manifest's checksums at load.
public enum ChecksumPolicy: Sendable {
    /// Vocabulary and table files (small, read anyway); the weights file only by header and size.
    case tables
    /// Every file, weights included (reads the whole weights file once).
    case all
}

/// A loaded Bi-LSTM-CRF: mapped weights, vocabularies and feature tables. Thread-safe; share one.
public final class NeuralModel: Sendable {
    public let manifest: ModelManifest
    /// Network sizes (``ModelManifest/dimensions``, required for this kind).
    public let dimensions: ModelManifest.Dimensions
    /// Tags in the order of the emission columns (``ModelManifest/tags``).
    public let tags: [String]
    public let directory: URL
    public let features: TokenFeatures
    let weights: SafeTensorsFile
    let wordVectors: UnsafeFloat16Pointer
    let members: [Member]
    /// Contextual character language model whose states feed every member, if the model has one.
    let languageModel: CharLanguageModel?
    /// CRF scores with invalid tag pairs already at -10000: start [T], transitions [from][to], end [T].
    let start: [Float]
    let transitions: [Float]
    let end: [Float]
    /// Character Bi-LSTM outputs of every member, by token, shared by all threads.
    let charCache = Mutex<[String: [Float]]>([:])
    /// Tokens kept in ``charCache`` before it starts over.
    static let charCacheLimit = 200_000
    public var tagCount: Int { tags.count }
    var inputSize: Int { Self.inputSize(dimensions) }
    /// Word-LSTM input: word vector, character Bi-LSTM, casing, four flags, language-model states.
    static func inputSize(_ d: ModelManifest.Dimensions) -> Int {
        d.wordDim + 2 * d.charHidden + d.casingDim + 4 + 2 * (d.charLMHidden ?? 0)
    }

    /// Loads the model in `directory`, reading its manifest.
    public convenience init(directory: URL, checksums: ChecksumPolicy = .tables) throws(NeuralModelError) {
        let manifest: ModelManifest
        do { manifest = try ModelManifest.read(directory: directory.path) } catch {
            throw .badFile(path: error.path, reason: error.reason)
        }
        try self.init(directory: directory, manifest: manifest, checksums: checksums)
    }

    /// Loads the model in `directory` described by its already decoded `manifest`.
    public init(directory: URL, manifest: ModelManifest, checksums: ChecksumPolicy = .tables) throws(NeuralModelError) {
        _ = try BLASBackend.shared()
        self.directory = directory
        let manifestURL = directory.appendingPathComponent("manifest.json")
        guard manifest.kind == .bilstmCRF else {
            throw .badFile(path: manifestURL.path, reason: "kind is '\(manifest.kind.rawValue)', not '\(ModelKind.bilstmCRF.rawValue)'")
        }
        guard let tags = manifest.tags, let d = manifest.dimensions, let constants = manifest.features else {
            throw .badFile(path: manifestURL.path, reason: "a bilstm-crf manifest needs 'tags', 'dimensions' and 'features'")
        }
        let engine = TokenFeatures.constants
        guard constants == engine else {
            throw .badFile(
                path: manifestURL.path,
                reason: "trained with feature constants \(constants) but this medtag computes \(engine); retrain or use a matching medtag")
        }
        guard tags == manifest.tagScheme.tags(for: manifest.labels) else {
            throw .badFile(
                path: manifestURL.path,
                reason: "tags \(tags) are not the \(manifest.tagScheme.rawValue) tags of labels \(manifest.labels)")
        }
        self.manifest = manifest
        self.tags = tags
        self.dimensions = d

        func entry(_ role: String) throws(NeuralModelError) -> (path: String, sha: String) {
            guard let e = manifest.files[role] else {
                throw .badFile(path: manifestURL.path, reason: "no '\(role)' entry under files")
            }
            return (directory.appendingPathComponent(e.path).path, e.sha256.lowercased())
        }
        func text(_ role: String) throws(NeuralModelError) -> String {
            let (path, sha) = try entry(role)
            guard let data = FileManager.default.contents(atPath: path) else { throw .missingFile(path: path) }
            let actual = data.withUnsafeBytes { SHA256.hex($0) }
            guard actual == sha else { throw .checksumMismatch(path: path, expected: sha, actual: actual) }
            guard let s = String(data: data, encoding: .utf8) else {
                throw .badFile(path: path, reason: "not UTF-8")
            }
            return s
        }

        // Vocabularies and tables.
        let wordsPath = try entry("words").path
        var words: [String: Int32] = [:]
        words.reserveCapacity(d.words)
        var index: Int32 = 0
        for line in try text("words").split(separator: "\n", omittingEmptySubsequences: false) {
            if index == d.words { break }
            words[String(line)] = index
            index += 1
        }
        guard index == d.words else {
            throw .badFile(path: wordsPath, reason: "has \(index) words, the manifest says \(d.words)")
        }
        let charsPath = try entry("chars").path
        guard let charList = try? JSONDecoder().decode([String].self, from: Data(try text("chars").utf8)),
            charList.count == d.chars
        else { throw .badFile(path: charsPath, reason: "should be a JSON array of \(d.chars) one-character strings") }
        var chars: [Unicode.Scalar: Int32] = [:]
        for (k, c) in charList.enumerated() where k >= 2 {
            guard c.unicodeScalars.count == 1, let s = c.unicodeScalars.first else {
                throw .badFile(path: charsPath, reason: "entry \(k) is not a single code point")
            }
            chars[s] = Int32(k)
        }
        let gazetteer = Set(try text("gazetteer").split(separator: "\n").map { String($0) })
        var affixes: [(kind: String, form: String)] = []
        for line in try text("affixes").split(separator: "\n") {
            let cols = line.split(separator: "\t")
            guard cols.count == 2 else {
                throw .badFile(path: try entry("affixes").path, reason: "lines should be KIND<TAB>FORM: '\(line)'")
            }
            affixes.append((String(cols[0]), String(cols[1])))
        }
        features = TokenFeatures(words: words, chars: chars, gazetteer: gazetteer, affixes: affixes)

        // Weights: mapped, header parsed, tensors checked by shape.
        let (weightsPath, weightsSHA) = try entry("weights")
        let file = try SafeTensorsFile(path: weightsPath)
        if case .all = checksums {
            let actual = SHA256.hex(file.file.bytes)
            guard actual == weightsSHA else {
                throw .checksumMismatch(path: weightsPath, expected: weightsSHA, actual: actual)
            }
        }
        weights = file
        wordVectors = UnsafeFloat16Pointer(pointer: try file.f16("word.weight", [d.words, d.wordDim]))
        let tagCount = tags.count
        var members: [Member] = []
        let input = Self.inputSize(d)
        for m in 0..<d.members {
            members.append(
                try Member(
                    file, prefix: "m\(m).", chars: d.chars, charDim: d.charDim, charHidden: d.charHidden,
                    casingDim: d.casingDim, input: input, hidden: d.hidden, tags: tagCount, words: d.words,
                    wordDim: d.wordDim))
        }
        guard !members.isEmpty else { throw .badFile(path: manifestURL.path, reason: "dimensions.members is 0") }
        self.members = members
        if let lmHidden = d.charLMHidden {
            guard let lmEmbedding = d.charLMEmbedding else {
                throw .badFile(path: manifestURL.path, reason: "dimensions.charLMHidden needs dimensions.charLMEmbedding")
            }
            let path = try entry("charlm_chars").path
            guard let list = try? JSONDecoder().decode([String].self, from: Data(try text("charlm_chars").utf8)) else {
                throw .badFile(path: path, reason: "should be a JSON array of one-character strings")
            }
            languageModel = try CharLanguageModel(file, chars: list, embedding: lmEmbedding, hidden: lmHidden, path: path)
        } else {
            languageModel = nil
        }
        start = Array(UnsafeBufferPointer(start: try file.f32("crf.start", [tagCount]), count: tagCount))
        transitions = Array(
            UnsafeBufferPointer(start: try file.f32("crf.transitions", [tagCount, tagCount]), count: tagCount * tagCount))
        end = Array(UnsafeBufferPointer(start: try file.f32("crf.end", [tagCount]), count: tagCount))
    }

    /// Emission scores of each sentence ([tokens × tags], row-major), averaged over the ensemble.
    /// Sentences are processed together; pass a batch of similar lengths for speed.
    public func emissions(_ sentences: [[String]]) -> [[Float]] {
        let order = sentences.indices.sorted { sentences[$0].count > sentences[$1].count }
        let sorted = order.map { sentences[$0] }
        let scores = batchEmissions(sorted)
        var out = [[Float]](repeating: [], count: sentences.count)
        for (k, i) in order.enumerated() { out[i] = scores[k] }
        return out
    }

    /// Best tag indices for one sentence's emissions (Viterbi; ties go to the lower tag index).
    public func viterbi(_ emissions: [Float]) -> [Int] {
        let t = tagCount
        let n = emissions.count / t
        guard n > 0 else { return [] }
        var score = (0..<t).map { start[$0] + emissions[$0] }
        var next = [Float](repeating: 0, count: t)
        var back = [Int32](repeating: 0, count: n * t)
        for i in 1..<n {
            for to in 0..<t {
                var best = score[0] + transitions[to]
                var arg = 0
                for from in 1..<t {
                    let s = score[from] + transitions[from * t + to]
                    if s > best {
                        best = s
                        arg = from
                    }
                }
                next[to] = best + emissions[i * t + to]
                back[i * t + to] = Int32(arg)
            }
            swap(&score, &next)
        }
        var best = 0
        for k in 0..<t {
            score[k] += end[k]
            if score[k] > score[best] { best = k }
        }
        var path = [Int](repeating: 0, count: n)
        path[n - 1] = best
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                best = Int(back[i * t + best])
                path[i - 1] = best
            }
        }
        return path
    }

    /// Emissions of sentences sorted by decreasing length.
    func batchEmissions(_ sentences: [[String]]) -> [[Float]] {
        let d = dimensions
        let tags = tagCount
        let lengths = sentences.map(\.count)
        var offsets = [Int](repeating: 0, count: sentences.count)
        var total = 0
        for (k, n) in lengths.enumerated() {
            offsets[k] = total
            total += n
        }
        guard total > 0 else { return sentences.map { _ in [] } }
        let inputSize = self.inputSize
        let charOffset = d.wordDim
        let casingOffset = d.wordDim + 2 * d.charHidden
        let flagOffset = casingOffset + d.casingDim

        // Member-independent inputs: word vectors, flags; unique tokens for the character Bi-LSTM.
        var x = [Float](repeating: 0, count: total * inputSize)
        var casings = [Int](repeating: 0, count: total)
        var tokenUnique = [Int](repeating: 0, count: total)
        var uniqueIndex: [String: Int] = [:]
        var uniqueChars: [[Int32]] = []
        // Features once per distinct token of the batch.
        var uniqueWord: [Int32] = []
        var uniqueFlags: [(Float, Float, Float, Float)] = []
        var uniqueCasing: [Int] = []
        var row = 0
        for sentence in sentences {
            for token in sentence {
                if let u = uniqueIndex[token] {
                    tokenUnique[row] = u
                } else {
                    let u = uniqueChars.count
                    uniqueIndex[token] = u
                    tokenUnique[row] = u
                    uniqueChars.append(features.charIDs(token))
                    uniqueWord.append(features.wordID(token))
                    uniqueFlags.append(features.flags(token))
                    uniqueCasing.append(TokenFeatures.casing(token))
                }
                casings[row] = uniqueCasing[tokenUnique[row]]
                row += 1
            }
        }
        // Flags; word vectors go in per member (members may have their own).
        x.withUnsafeMutableBufferPointer { xb in
            for row in 0..<total {
                let base = xb.baseAddress! + row * inputSize
                let (g, s, p, r) = uniqueFlags[tokenUnique[row]]
                base[flagOffset] = g
                base[flagOffset + 1] = s
                base[flagOffset + 2] = p
                base[flagOffset + 3] = r
            }
            languageModel?.embed(sentences, firstRow: offsets, into: xb.baseAddress!, stride: inputSize, column: flagOffset + 4)
        }

        let h = d.hidden
        let g4 = 4 * h
        var summed = [Float](repeating: 0, count: total * tags)
        // Character Bi-LSTM outputs of all members per distinct token: cached across calls.
        let reprSize = 2 * d.charHidden
        let memberCount = members.count
        let uniqueTokens = [String](unsafeUninitializedCapacity: uniqueIndex.count) { buffer, count in
            for (token, u) in uniqueIndex { (buffer.baseAddress! + u).initialize(to: token) }
            count = uniqueIndex.count
        }
        var charReprs = [Float](repeating: 0, count: uniqueChars.count * memberCount * reprSize)
        var missing: [Int] = []
        charCache.withLock { cache in
            charReprs.withUnsafeMutableBufferPointer { cr in
                for (u, token) in uniqueTokens.enumerated() {
                    if let cached = cache[token] {
                        for k in 0..<(memberCount * reprSize) { cr[u * memberCount * reprSize + k] = cached[k] }
                    } else {
                        missing.append(u)
                    }
                }
            }
        }
        if !missing.isEmpty {
            var fresh: [(String, [Float])] = []
            charReprs.withUnsafeMutableBufferPointer { cr in
                for u in missing {
                    let base = cr.baseAddress! + u * memberCount * reprSize
                    for (m, member) in members.enumerated() {
                        member.charRepresentation(uniqueChars[u], base + m * reprSize)
                    }
                    fresh.append((uniqueTokens[u], Array(UnsafeBufferPointer(start: base, count: memberCount * reprSize))))
                }
            }
            charCache.withLock { cache in
                if cache.count + fresh.count > Self.charCacheLimit { cache.removeAll(keepingCapacity: true) }
                for (token, repr) in fresh { cache[token] = repr }
            }
        }
        var gatesF = [Float](repeating: 0, count: total * g4)
        var gatesB = [Float](repeating: 0, count: total * g4)
        var hidden = [Float](repeating: 0, count: total * 2 * h)
        let batch = sentences.count
        var state = [Float](repeating: 0, count: batch * h * 2)  // h rows then c rows
        var step = [Float](repeating: 0, count: batch * g4)

        for (m, member) in members.enumerated() {
            // The member's word vectors (fp16 in the mapping, converted per row), character and
            // casing inputs.
            let table = member.words ?? wordVectors.pointer
            x.withUnsafeMutableBufferPointer { xb in
                charReprs.withUnsafeBufferPointer { cr in
                    for row in 0..<total {
                        let base = xb.baseAddress! + row * inputSize
                        let vector = table + Int(uniqueWord[tokenUnique[row]]) * d.wordDim
                        for j in 0..<d.wordDim { base[j] = Float(vector[j]) }
                        let c = cr.baseAddress! + (tokenUnique[row] * memberCount + m) * reprSize
                        for j in 0..<reprSize { base[charOffset + j] = c[j] }
                        let cas = member.casing + casings[row] * d.casingDim
                        for j in 0..<d.casingDim { base[casingOffset + j] = cas[j] }
                    }
                }
            }
            // Input projections of every token, both directions (BLAS).
            x.withUnsafeBufferPointer { xb in
                gatesF.withUnsafeMutableBufferPointer { gf in
                    gemmABt(total, g4, inputSize, xb.baseAddress!, inputSize, member.forward.inputWeights, inputSize, gf.baseAddress!, g4)
                }
                gatesB.withUnsafeMutableBufferPointer { gb in
                    gemmABt(total, g4, inputSize, xb.baseAddress!, inputSize, member.backward.inputWeights, inputSize, gb.baseAddress!, g4)
                }
            }
            // Recurrences: sentences sorted by decreasing length, so the active ones are a prefix.
            let path = recurrentPath
            for direction in 0..<2 {
                let weights = direction == 0 ? member.forward : member.backward
                let projected = direction == 0 ? gatesF : gatesB
                state.withUnsafeMutableBufferPointer { sb in
                    let hs = sb.baseAddress!
                    let cs = hs + batch * h
                    for k in 0..<(batch * h * 2) { hs[k] = 0 }
                    step.withUnsafeMutableBufferPointer { stb in
                        projected.withUnsafeBufferPointer { pb in
                            hidden.withUnsafeMutableBufferPointer { hb in
                                weights.bias.withUnsafeBufferPointer { bias in
                                    let maxLength = lengths.first ?? 0
                                    var active = batch
                                    for t in 0..<maxLength {
                                        while active > 0 && lengths[active - 1] <= t { active -= 1 }
                                        weights.recurrentStep(active, hs, stb.baseAddress!)
                                        for b in 0..<active {
                                            let position = direction == 0 ? t : lengths[b] - 1 - t
                                            let row = offsets[b] + position
                                            let gates = stb.baseAddress! + b * g4
                                            let input = pb.baseAddress! + row * g4
                                            medtag_lstm_cell(gates, input, bias.baseAddress!, cs + b * h, hs + b * h, Int32(h), path)
                                            let out = hb.baseAddress! + row * 2 * h + direction * h
                                            for j in 0..<h { out[j] = hs[b * h + j] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // Emissions (BLAS), summed over members.
            hidden.withUnsafeBufferPointer { hb in
                summed.withUnsafeMutableBufferPointer { sb in
                    gemmABt(total, tags, 2 * h, hb.baseAddress!, 2 * h, member.output, 2 * h, sb.baseAddress!, tags, accumulate: true)
                    for row in 0..<total {
                        for k in 0..<tags { sb[row * tags + k] += member.outputBias[k] }
                    }
                }
            }
        }
        let scale = 1 / Float(members.count)
        return sentences.indices.map { k in
            let from = offsets[k] * tags
            return summed[from..<(from + lengths[k] * tags)].map { $0 * scale }
        }
    }
}

/// The mapped fp16 word vectors.
struct UnsafeFloat16Pointer: @unchecked Sendable {
    let pointer: UnsafePointer<Float16>
}
