import Foundation
import MedtagStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Element type of a tensor.
public enum TensorType: String, Sendable {
    case f32 = "F32"
    case f16 = "F16"

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 2 }
}

/// Where one tensor lies in a mapped safetensors file.
public struct TensorInfo: Sendable, Equatable {
    public var name: String
    public var type: TensorType
    public var shape: [Int]
    /// Byte offset from the start of the file.
    public var offset: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file (8-byte little-endian header length, JSON header, raw tensors), mapped
/// without copying: tensors are views into the mapping.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The mapping the tensors point into.
    public let file: MappedFile
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// The header's `__metadata__` strings.
    public let metadata: [String: String]

    /// Maps `path` and reads its header. Only the JSON header is parsed; tensor data is untouched.
    public init(path: String) throws(NeuralModelError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            if error.missing { throw .missingFile(path: path) }
            throw .badFile(path: path, reason: error.reason)
        }
        self.file = file
        guard file.count >= 8 else { throw .badHeader(path: path, reason: "shorter than the 8-byte length prefix") }
        var length: UInt64 = 0
        for k in 0..<8 { length |= UInt64(file.base.load(fromByteOffset: k, as: UInt8.self)) << (8 * UInt64(k)) }
        guard length > 1, length <= UInt64(file.count - 8) else {
            throw .badHeader(path: path, reason: "header length \(length) does not fit in a file of \(file.count) bytes")
        }
        let headerData = Data(bytes: file.base + 8, count: Int(length))
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerData) } catch {
            throw .badHeader(path: path, reason: "the header is not valid JSON")
        }
        guard let object = json as? [String: Any] else {
            throw .badHeader(path: path, reason: "the header is not a JSON object")
        }
        let dataStart = 8 + Int(length)
        let dataCount = file.count - dataStart
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                if let m = value as? [String: String] { metadata = m }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shapeAny = entry["shape"] as? [Any], let offsetsAny = entry["data_offsets"] as? [Any],
                offsetsAny.count == 2
            else { throw .badHeader(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets") }
            guard let type = TensorType(rawValue: dtype) else {
                throw .badHeader(path: path, reason: "tensor '\(name)' has unsupported dtype \(dtype) (F32 or F16 expected)")
            }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let offsets = offsetsAny.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, offsets.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
                throw .badHeader(path: path, reason: "tensor '\(name)' has a malformed shape or offsets")
            }
            let info = TensorInfo(name: name, type: type, shape: shape, offset: dataStart + offsets[0])
            guard offsets[0] >= 0, offsets[1] <= dataCount, offsets[1] - offsets[0] == info.elementCount * type.size
            else {
                throw .badHeader(path: path, reason: "tensor '\(name)' data \(offsets) lies outside the \(dataCount) data bytes or disagrees with its shape")
            }
            guard info.offset % type.size == 0 else {
                throw .badHeader(path: path, reason: "tensor '\(name)' is not aligned to \(type.size) bytes")
            }
            tensors[name] = info
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor `name`, checked against an expected type and shape.
    public func info(_ name: String, _ type: TensorType, _ shape: [Int]) throws(NeuralModelError) -> TensorInfo {
        guard let info = tensors[name] else {
            throw .shapeMismatch(path: file.path, tensor: name, expected: "\(type.rawValue) \(shape)", found: "absent")
        }
        guard info.type == type, info.shape == shape else {
            throw .shapeMismatch(
                path: file.path, tensor: name, expected: "\(type.rawValue) \(shape)",
                found: "\(info.type.rawValue) \(info.shape)")
        }
        return info
    }

    /// An fp32 tensor as a pointer into the mapping.
    public func f32(_ name: String, _ shape: [Int]) throws(NeuralModelError) -> UnsafePointer<Float> {
        let info = try info(name, .f32, shape)
        return (file.base + info.offset).assumingMemoryBound(to: Float.self)
    }

    /// An fp16 tensor as a pointer into the mapping.
    public func f16(_ name: String, _ shape: [Int]) throws(NeuralModelError) -> UnsafePointer<Float16> {
        let info = try info(name, .f16, shape)
        return (file.base + info.offset).assumingMemoryBound(to: Float16.self)
    }
}
