/// Why a neural model directory cannot be loaded. Each message names the file and the problem.
public enum NeuralModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A file the model needs is not there (or cannot be opened).
    case missingFile(path: String)
    /// The safetensors header (length prefix or JSON) is not valid.
    case badHeader(path: String, reason: String)
    /// A tensor is missing, has an unexpected type, or has the wrong shape.
    case shapeMismatch(path: String, tensor: String, expected: String, found: String)
    /// A file's SHA-256 differs from the one recorded in the manifest.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// The manifest or a vocabulary/table file is not what the model expects.
    case badFile(path: String, reason: String)
    /// The BLAS library (OpenBLAS) cannot be loaded or lacks a routine.
    case blasUnavailable(reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): file missing or unreadable"
        case .badHeader(let path, let reason):
            return "\(path): bad safetensors header: \(reason)"
        case .shapeMismatch(let path, let tensor, let expected, let found):
            return "\(path): tensor '\(tensor)' should be \(expected) but is \(found)"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): checksum mismatch (manifest says sha256 \(expected), file has \(actual))"
        case .badFile(let path, let reason):
            return "\(path): \(reason)"
        case .blasUnavailable(let reason):
            return reason
        }
    }
}
