import Testing

/// Something loaded once and shared by several tests (a model, a pipeline). When it cannot be
/// loaded, each test that asks for it fails with the reason instead of the whole run crashing.
public final class SharedFixture<Value: Sendable>: Sendable {
    private let what: String
    private let loaded: Result<Value, any Error>

    /// Loads `what` with `load`, at once.
    public init(_ what: String, _ load: () throws -> Value) {
        self.what = what
        loaded = Result { try load() }
    }

    /// The value; the calling test fails (`#require`) when it could not be loaded.
    public func callAsFunction(sourceLocation: SourceLocation = #_sourceLocation) throws -> Value {
        var reason = ""
        if case .failure(let error) = loaded { reason = "\(error)" }
        return try #require(try? loaded.get(), "cannot load \(what): \(reason)", sourceLocation: sourceLocation)
    }
}
