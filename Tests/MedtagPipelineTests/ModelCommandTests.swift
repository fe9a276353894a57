import Foundation
import Testing
import MedtagTestSupport

/// `medtag model verify`: every file a manifest lists, weights included, against its SHA-256.
@Suite(.serialized)
struct ModelCommandTests {
    @Test func verifyChecksEveryListedFileAndNamesTheOneThatDiffers() throws {
        let models = Paths.packageRoot.appendingPathComponent("Models")
        for name in ["es-pharmaconer-bilstm-crf", "es-pharmaconer-gazetteer"] {
            let result = try run(Paths.medtag, ["model", "verify", models.appendingPathComponent(name).path])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.hasPrefix("\(name): ") && result.out.contains(" the manifest ("))
        }
        // A copy whose weights lost a byte at the end: the header still parses, the checksum does not match.
        let copy = try temporaryDirectory("model-verify")
        defer { try? FileManager.default.removeItem(at: copy) }
        let folder = copy.appendingPathComponent("model")
        try FileManager.default.copyItem(at: models.appendingPathComponent("es-pharmaconer-bilstm-crf"), to: folder)
        let weights = folder.appendingPathComponent("weights.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: weights)
        let broken = try run(Paths.medtag, ["model", "verify", folder.path])
        #expect(broken.status != 0)
        #expect(broken.err.contains("weights.safetensors") && broken.err.contains("checksum mismatch"))
    }
}
