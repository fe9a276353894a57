#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Talks to systemd's notification socket (`sd_notify(3)`), without libsystemd.
///
/// When `NOTIFY_SOCKET` is unset (not started by systemd) every call does nothing. An address
/// starting with `@` is in the abstract namespace.
public struct SystemdNotifier: Sendable {
    private let socketPath: String?
    /// How often systemd expects `WATCHDOG=1`, from `WATCHDOG_USEC` (nil when the watchdog is off).
    public let watchdogInterval: Double?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init), usec > 0,
            environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true
        {
            watchdogInterval = usec / 1_000_000
        } else {
            watchdogInterval = nil
        }
    }

    /// True when started by systemd with a notification socket.
    public var isEnabled: Bool { socketPath != nil }

    /// Sends one datagram such as `READY=1\nSTATUS=…`. Returns false when it could not be sent.
    ///
    /// - Parameter wait: wait while the socket's queue is full (systemd is not reading). Messages
    ///   that must arrive (READY, RELOADING, STOPPING) wait; the periodic ones (WATCHDOG, STATUS)
    ///   are dropped instead, so the work loop that sends them never stalls on the socket.
    @discardableResult
    public func notify(_ state: String, wait: Bool = true) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (abstract ? 0 : 1))
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | (wait ? 0 : Int32(MSG_DONTWAIT)), socketAddress, length) }
            }
        }
        return sent == message.count
    }

    /// The service is up (or back up after a reload); `status` is shown by `systemctl status`.
    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)\nMAINPID=\(getpid())") }
    /// A reload started; systemd expects READY=1 when it is over.
    public func reloading() { notify("RELOADING=1") }
    /// A one-line status for `systemctl status`.
    public func status(_ text: String) { notify("STATUS=\(text)", wait: false) }
    /// A graceful stop started.
    public func stopping() { notify("STOPPING=1") }
    /// The work loop is alive.
    public func watchdog() { notify("WATCHDOG=1", wait: false) }
}
