import Foundation
import MedtagPipeline
import Testing
import MedtagTestSupport

@Suite(.serialized)
struct ShardTests {
    @Test func shardsPartitionKeys() throws {
        let keys = (0..<1000).map { "folder/doc-\($0)" }
        for n in [1, 3, 4, 7] {
            let shards = try (0..<n).map { try Shard(index: $0, count: n) }
            for key in keys { #expect(shards.filter { $0.owns(key) }.count == 1) }
            // Roughly even: no shard takes more than twice its share.
            for shard in shards { #expect(keys.filter(shard.owns).count < 2 * keys.count / n + 10) }
        }
        #expect(throws: ShardError.self) { try Shard(parsing: "4/4") }
        #expect(throws: ShardError.self) { try Shard(parsing: "a/b") }
        #expect(try Shard(parsing: "2/5") == Shard(index: 2, count: 5))
    }

    @Test func shardFromClusterEnvironments() throws {
        let slurm = ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"]
        #expect(try Shard.fromEnvironment(slurm, shards: nil) == Shard(index: 2, count: 3))
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0"], shards: 4) == Shard(index: 0, count: 4))
        #expect(throws: ShardError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0"], shards: nil) }
        #expect(try Shard.fromEnvironment([:], shards: nil) == nil)
    }

    /// N separate processes, merged, give byte for byte what one run gives.
    @Test(arguments: [1, 3, 4])
    func mergedShardsEqualOneProcessRun(_ n: Int) throws {
        let inputs = try temporaryDirectory("shard-in")
        let root = try temporaryDirectory("shard-out")
        defer {
            try? FileManager.default.removeItem(at: inputs)
            try? FileManager.default.removeItem(at: root)
        }
        let drugs = ["enalapril", "paracetamol", "amoxicilina", "ácido acetilsalicílico", "creatinina", "potasio", "heparina"]
        for k in 0..<24 {
            let sub = inputs.appendingPathComponent(k % 3 == 0 ? "a" : "b/c")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            let text = "Paciente \(k) tratado con \(drugs[k % drugs.count]) y \(drugs[(k * 5 + 1) % drugs.count]).\nEvolución favorable.\n"
            try Data(text.utf8).write(to: sub.appendingPathComponent("doc-\(k).txt"))
        }
        try Data([0xFF, 0xFE, 0x00]).write(to: inputs.appendingPathComponent("a/broken.txt"))
        let plain = root.appendingPathComponent("plain")
        _ = try AnnotateHarness.run([inputs], out: plain, model: nil)

        let sharded = root.appendingPathComponent("sharded")
        try annotateInShards(inputs, into: sharded, count: n)
        let merged = try run(Paths.medtag, ["merge", sharded.path])
        #expect(merged.status == 0, "\(merged.err)")
        #expect(merged.out.contains("24 documents"))
        #expect(merged.out.contains("1 failures"))

        // The summary page describes one run: each shard has its own, the merged folder none.
        let plainFiles = try FileManager.default.subpathsOfDirectory(atPath: plain.path)
            .filter { $0.contains(".") && $0 != "summary.html" }.sorted()
        #expect(plainFiles.count == 24 * 4 + 2, "BRAT (2 files), CoNLL and subtrack 2 per document, one CSV and one TSV table")
        for file in plainFiles {
            let a = try Data(contentsOf: plain.appendingPathComponent(file))
            let b = try Data(contentsOf: sharded.appendingPathComponent(file))
            #expect(a == b, "\(file) differs")
        }
        // Every document exactly once across shards.
        var seen: [String: Int] = [:]
        for k in 0..<n {
            let manifest = try ShardWriter.readManifest(sharded.appendingPathComponent("shard-\(k)-of-\(n)"))
            for d in manifest.documents {
                seen[d.key, default: 0] += 1
                #expect(d.language == "es", "\(d.key): the language it was annotated as")
            }
        }
        #expect(seen.count == 24)
        let summary = try JSONDecoder().decode(
            ShardMerge.Summary.self, from: Data(contentsOf: sharded.appendingPathComponent(ShardMerge.summaryFile)))
        #expect(summary.languages == ["es": 24] && summary.documents == 24)
        #expect(seen.values.allSatisfy { $0 == 1 })
        let csv = try String(contentsOf: sharded.appendingPathComponent(ShardMerge.combinedCSV), encoding: .utf8)
        #expect(csv.components(separatedBy: "document,entity_id").count == 2, "header once")
    }

    @Test func missingOrDamagedShardIsReportedByNumberAndRerunIsIdempotent() throws {
        let inputs = try temporaryDirectory("shard-in")
        let out = try temporaryDirectory("shard-out")
        defer {
            try? FileManager.default.removeItem(at: inputs)
            try? FileManager.default.removeItem(at: out)
        }
        for k in 0..<9 { try Data("Toma paracetamol \(k).\n".utf8).write(to: inputs.appendingPathComponent("d\(k).txt")) }
        for k in [0, 2] { _ = try AnnotateHarness.run([inputs], out: out, model: nil, shard: Shard(index: k, count: 3)) }
        let missing = try run(Paths.medtag, ["merge", out.path])
        #expect(missing.status == 1)
        #expect(missing.err.contains("shard 1 of 3: missing"))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(ShardMerge.summaryFile).path))

        // Slurm-style environment picks shard 1 (task ids 1…3).
        let env = ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"]
        _ = try run(Paths.medtag, ["annotate", inputs.path, "--out", out.path], environment: env)
        let manifest = try ShardWriter.readManifest(out.appendingPathComponent("shard-1-of-3"))
        let victim = try #require(manifest.documents.first?.files.first)
        try Data("tampered".utf8).write(to: out.appendingPathComponent("shard-1-of-3/\(victim.name)"))
        let damaged = try run(Paths.medtag, ["merge", out.path])
        #expect(damaged.status == 1)
        #expect(damaged.err.contains("shard 1 of 3: \(victim.name) does not match its checksum"))

        // Re-running the shard replaces it whole; the merge then succeeds.
        _ = try AnnotateHarness.run([inputs], out: out, model: nil, shard: Shard(index: 1, count: 3))
        let ok = try run(Paths.medtag, ["merge", out.path])
        #expect(ok.status == 0, "\(ok.err)")
        #expect(ok.out.contains("9 documents"))
        let hidden = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }
        #expect(hidden.isEmpty, "staging leftovers: \(hidden)")
    }
}

/// The shipped sbatch example, run as a 3-task array on a real single-node Slurm.
struct SlurmTests {
    static let script = Paths.packageRoot.appendingPathComponent("Tests/cluster/slurm-array.sh")

    @Test func shippedSbatchRunsAsAThreeTaskArrayAndMerges() throws {
        let inputs = try temporaryDirectory("slurm-in")
        let out = try temporaryDirectory("slurm-out")
        defer {
            try? FileManager.default.removeItem(at: inputs)
            try? FileManager.default.removeItem(at: out)
        }
        for k in 0..<12 { try Data("Se pautó enalapril \(k) y paracetamol.\n".utf8).write(to: inputs.appendingPathComponent("n\(k).txt")) }
        let result = try run(URL(fileURLWithPath: "/bin/bash"), [Self.script.path, Paths.medtag.path, inputs.path, out.path])
        if result.status == 77 {
            // Not a pass: the output says plainly that Slurm could not be started here and why.
            print("SLURM TEST NOT RUN: \(result.err.trimmingCharacters(in: .whitespacesAndNewlines))")
            withKnownIssue("Slurm cannot be started on this machine: \(result.err)") { throw ShardError("no Slurm") }
            return
        }
        #expect(result.status == 0, "\(result.out)\n\(result.err)")
        #expect(result.out.contains("merged 3 shards: 12 documents"))
        for k in 0..<3 { #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("shard-\(k)-of-3/manifest.json").path)) }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("n7.ann").path))
    }
}

/// Sharding an archive: members are keyed by their path inside it.
@Suite(.serialized)
struct ArchiveShardTests {
    @Test(arguments: [1, 3, 4])
    func mergedShardsOfATarGzEqualOneProcessRun(_ n: Int) throws {
        let root = try temporaryDirectory("shard-tgz")
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("src/ward")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        for k in 0..<20 {
            try Data("Paciente \(k) tratado con enalapril \(k * 5) mg y paracetamol.\n".utf8).write(to: source.appendingPathComponent("n\(k).txt"))
        }
        try Data("<doc><p>Tratado con heparina.</p></doc>".utf8).write(to: source.appendingPathComponent("nota.xml"))
        let archive = root.appendingPathComponent("notas.tar.gz")
        #expect(try run(URL(fileURLWithPath: "/bin/tar"), ["-czf", archive.path, "-C", root.appendingPathComponent("src").path, "ward"]).status == 0)

        let plain = root.appendingPathComponent("plain")
        #expect(try AnnotateHarness.run([archive], out: plain, model: nil).summary.contains("annotated 21 of 21 documents"))
        let sharded = root.appendingPathComponent("sharded")
        try annotateInShards(archive, into: sharded, count: n)
        let merged = try run(Paths.medtag, ["merge", sharded.path])
        #expect(merged.status == 0, "\(merged.err)")
        #expect(merged.out.contains("21 documents"))
        let files = try FileManager.default.subpathsOfDirectory(atPath: plain.path).filter { $0.hasSuffix(".ann") || $0.hasSuffix(".csv") || $0.hasSuffix(".conll") || $0.hasSuffix(".txt") || $0.hasSuffix(".tsv") }
        #expect(files.count == 21 * 4 + 2, "BRAT (2 files), CoNLL and subtrack 2 per document, one CSV and one TSV table")
        #expect(files.contains("notas.tar.gz/ward/n7.ann") && files.contains("subtrack2/notas.tar.gz/ward/n7.tsv"))
        for file in files {
            #expect(try Data(contentsOf: plain.appendingPathComponent(file)) == Data(contentsOf: sharded.appendingPathComponent(file)), "\(file)")
        }
    }
}

/// Runs `medtag annotate INPUT --shard K/N` for every K as separate processes at once, and waits.
func annotateInShards(_ input: URL, into output: URL, count n: Int) throws {
    let processes = try (0..<n).map { k -> Process in
        let p = Process()
        p.executableURL = Paths.medtag
        p.arguments = ["annotate", input.path, "--out", output.path, "--shard", "\(k)/\(n)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }
    for p in processes { p.waitUntilExit() }
}
