import Foundation
import MedtagNeural
import Testing

#if canImport(Glibc)
import Glibc
import MedtagTestSupport
#endif

/// What `make install` and `make deb` produce, checked as an administrator would use it. These tests
/// need the release binary, which takes minutes to build: `make test-install` builds it, installs
/// into a scratch DESTDIR (PREFIX=/usr/local), builds the .deb and runs them.
enum Installed {
    /// The DESTDIR of `make install` (`MEDTAG_INSTALL_DESTDIR`), nil outside `make test-install`.
    static let destdir: URL? = ProcessInfo.processInfo.environment["MEDTAG_INSTALL_DESTDIR"].flatMap {
        $0.isEmpty ? nil : URL(fileURLWithPath: $0)
    }
    /// The package built by `make deb` (`MEDTAG_DEB`).
    static let deb: URL? = ProcessInfo.processInfo.environment["MEDTAG_DEB"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
    static let notInstalled = "needs an installed medtag: run `make test-install`"

    static func path(_ relative: String) -> URL { destdir!.appendingPathComponent(relative) }
    static var binary: URL { path("usr/local/bin/medtag") }

    /// The Swift toolchain this test process runs on: the folder above `usr/lib/swift` holding the
    /// libswiftCore.so it mapped.
    static let toolchain: String? = {
        // /proc files report no size, so read the map through grep (bash's parent is this process).
        let maps = shell("grep -m1 '/libswiftCore.so$' /proc/$PPID/maps").output
        guard let slash = maps.firstIndex(of: "/"), let range = maps.range(of: "/usr/lib/swift/") else { return nil }
        return String(maps[slash..<range.lowerBound])
    }()

    /// True when this process may create a private mount namespace (root, unshare available).
    static let canHideFolders: Bool = shell("unshare --mount --propagation private true").status == 0

    /// True when Scripts/throwaway-root.sh works here (namespaces and overlayfs).
    static let canMakeThrowawayRoot: Bool = canHideFolders && shell("\"$1\" -- true", [throwawayRoot]).status == 0

    static let throwawayRoot = Paths.packageRoot.appendingPathComponent("Scripts/throwaway-root.sh").path
}

/// Runs a bash script (`$1`… are `arguments`) and returns its exit status and its output, both streams.
@discardableResult
func shell(_ script: String, _ arguments: [String] = [], in folder: URL? = nil) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", script, "bash"] + arguments
    if let folder { process.currentDirectoryURL = folder }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "cannot start bash: \(error)") }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

@Suite("installation: make install, the units, the Debian package", .serialized, .enabled(if: Installed.destdir != nil, "\(Installed.notInstalled)"))
struct InstallTests {
    @Test("make install puts each file where the binary, systemd and man look for it")
    func layout() throws {
        for relative in [
            "usr/local/bin/medtag", "etc/medtag/medtag.conf",
            "usr/local/share/medtag/Models/es-pharmaconer-bilstm-crf/manifest.json",
            "usr/local/share/medtag/Models/es-pharmaconer-bilstm-crf/weights.safetensors",
            "usr/local/share/medtag/Models/es-pharmaconer-gazetteer/manifest.json",
            "usr/local/share/medtag/Models/en-biomed-bilstm-crf/manifest.json",
            "usr/local/share/medtag/Models/lexicon/lexicon.mtlx",
            "usr/local/lib/systemd/system/medtag.service", "usr/local/lib/systemd/system/medtag-nightly.service",
            "usr/local/lib/systemd/system/medtag-nightly.timer", "usr/local/lib/sysusers.d/medtag.conf",
            "usr/local/lib/tmpfiles.d/medtag.conf", "usr/local/share/doc/medtag/README.md",
            "usr/local/share/doc/medtag/copyright", "usr/local/share/man/man1/medtag.1.gz",
            "usr/local/share/man/man1/medtag.serve.1.gz", "usr/local/share/man/man1/medtag.annotate.1.gz",
        ] {
            #expect(FileManager.default.fileExists(atPath: Installed.path(relative).path), "\(relative) is installed")
        }
        #expect(FileManager.default.isExecutableFile(atPath: Installed.binary.path))
        // The man page is the parser's description of the command, options included.
        let page = shell("zcat \"$1\"", [Installed.path("usr/local/share/man/man1/medtag.serve.1.gz").path])
        #expect(page.output.contains(".Nm \"medtag serve\"") && page.output.contains("Fl -config"), "\(page.output.prefix(500))")
        let shipped = try Data(contentsOf: Paths.packageRoot.appendingPathComponent("etc/medtag/medtag.conf"))
        #expect(try Data(contentsOf: Installed.path("etc/medtag/medtag.conf")) == shipped)
    }

    @Test("the installed binary needs only Debian's libraries: no Swift runtime, no path into the toolchain")
    func libraries() throws {
        let dynamic = shell("readelf -d \"$1\"", [Installed.binary.path])
        #expect(dynamic.status == 0, "\(dynamic.output)")
        let needed = dynamic.output.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line -> String? in
            guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        let allowed: Set = [
            "libarchive.so.13", "libinotifytools.so.0", "libopenblas.so.0", "libc.so.6", "libm.so.6", "libstdc++.so.6",
            "libgcc_s.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libdl.so.2", "libpthread.so.0", "librt.so.1",
        ]
        #expect(needed.contains("libarchive.so.13") && needed.contains("libinotifytools.so.0"))
        // OpenBLAS is loaded at run time, after its kernels are chosen from the CPU's features.
        #expect(!needed.contains("libopenblas.so.0"), "OpenBLAS linked at load time picks its kernels before medtag can")
        #expect(Set(needed).isSubset(of: allowed), "unexpected libraries: \(Set(needed).subtracting(allowed).sorted())")
        if let toolchain = Installed.toolchain {
            #expect(!dynamic.output.contains(toolchain), "no RUNPATH into \(toolchain):\n\(dynamic.output)")
        }
    }

    @Test(
        "with the toolchain hidden, the installed binary annotates a note with the installed model; without that model it says so",
        .enabled(if: Installed.canHideFolders, "cannot create a private mount namespace here (needs root and unshare)"))
    func runsWithoutToolchain() throws {
        let toolchain = try #require(Installed.toolchain, "cannot tell where the Swift toolchain is")
        try #require(
            !Installed.destdir!.standardizedFileURL.path.hasPrefix(Paths.packageRoot.standardizedFileURL.path + "/"),
            "install outside the checkout, or the binary finds the checkout's Models/ instead of the installed ones")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-installed-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.copyItem(
            at: Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt"), to: work.appendingPathComponent("nota.txt"))
        // A private mount namespace with an empty folder over the toolchain; a clean environment, so
        // nothing (MEDTAG_MODELS, LD_LIBRARY_PATH) points anywhere; run from a folder outside the checkout.
        let hidden = """
            unshare --mount --propagation private bash -c '
                mount -t tmpfs -o mode=755 hidden "$0" || exit 90
                [ -z "$(ls -A "$0")" ] || exit 91
                cd "$1" && exec env -i PATH=/usr/bin:/bin "$2" annotate nota.txt --out "$3"
            ' "$1" "$2" "$3" "$4"
            """
        let run = shell(hidden, [toolchain, work.path, Installed.binary.path, "out"])
        #expect(run.status == 0, "\(run.output)")
        let ann = (try? String(contentsOf: work.appendingPathComponent("out/nota.ann"), encoding: .utf8)) ?? ""
        #expect(ann.contains("\tenalapril\n"), "the model found enalapril:\n\(ann)")
        #expect(run.output.contains("es-pharmaconer-bilstm-crf"), "the neural model was used: \(run.output)")

        // The installed binary, with a clean environment, runs on the best kernels the CPU supports
        // and reproduces the installed model's PyTorch outputs on them.
        let verify = shell(
            hidden.replacingOccurrences(of: "annotate nota.txt --out \"$3\"", with: "model verify"),
            [toolchain, work.path, Installed.binary.path, "unused"])
        #expect(verify.status == 0, "\(verify.output)")
        let best = try #require(BLASBackend.runnableCoreTypes.first)
        #expect(
            verify.output.contains("engine matches PyTorch") && verify.output.contains("blas=openblas core=\(best) "),
            "\(verify.output)")

        // The same run with the installed models moved away fails and says why: the run above used them.
        let models = Installed.path("usr/local/share/medtag/Models")
        let aside = Installed.path("usr/local/share/medtag/Models.aside")
        try FileManager.default.moveItem(at: models, to: aside)
        defer { try? FileManager.default.moveItem(at: aside, to: models) }
        let without = shell(hidden, [toolchain, work.path, Installed.binary.path, "out2"])
        #expect(without.status != 0)
        #expect(without.output.contains("no Models folder found"), "\(without.output)")

        // And the hiding works: the debug build, linked against the toolchain's runtime, cannot start.
        let debug = try medtagBinary()
        let dynamic = shell(hidden, [toolchain, work.path, debug.path, "out3"])
        #expect(dynamic.status != 0 && dynamic.output.contains("libswift"), "\(dynamic.output)")
    }

    @Test(
        "the installed units pass systemd-analyze verify (man pages included) and score at most 1.5 for exposure",
        .enabled(if: shell("command -v systemd-analyze").status == 0, "systemd-analyze is not installed (Debian's systemd package)"),
        .enabled(if: Installed.canMakeThrowawayRoot, "no throwaway root here (needs root, mount namespaces and overlayfs)"))
    func unitsAnalyze() throws {
        let units = "/usr/local/lib/systemd/system"
        let verify = shell(
            "\"$1\" --copy \"$2\" -- systemd-analyze verify $3/medtag.service $3/medtag-nightly.service $3/medtag-nightly.timer",
            [Installed.throwawayRoot, Installed.destdir!.path, units])
        #expect(verify.status == 0 && verify.output.isEmpty, "systemd-analyze verify:\n\(verify.output)")
        for service in ["medtag.service", "medtag-nightly.service"] {
            let security = shell(
                "\"$1\" --copy \"$2\" -- systemd-analyze security --offline=yes \"$3\"",
                [Installed.throwawayRoot, Installed.destdir!.path, "\(units)/\(service)"])
            let line = security.output.split(separator: "\n").first { $0.contains("Overall exposure level for \(service):") }
            let score = line.flatMap { $0.split(separator: ":").last?.split(separator: " ").first }.flatMap { Double($0) }
            print("systemd-analyze security --offline=yes \(service): \(line.map(String.init) ?? "no score")")
            #expect(score != nil && score! <= 1.5, "\(security.output)")
        }
        // Both services share the sandbox.
        let main = try String(contentsOf: Installed.path("\(units.dropFirst())/medtag.service"), encoding: .utf8)
        let nightly = try String(contentsOf: Installed.path("\(units.dropFirst())/medtag-nightly.service"), encoding: .utf8)
        func sandbox(_ unit: String) -> [Substring] {
            unit.split(separator: "\n").filter { $0.hasPrefix("Protect") || $0.hasPrefix("Restrict") || $0.hasPrefix("SystemCall") || $0.hasPrefix("Private") }
        }
        #expect(sandbox(main) == sandbox(nightly))
        for setting in ["ProtectProc=invisible", "SystemCallErrorNumber=EPERM", "RequiresMountsFor=/var/spool/medtag", "TasksMax="] {
            #expect(main.contains(setting) && nightly.contains(setting), "both services set \(setting)")
        }
    }

    @Test("the .deb holds the program, models, units and configuration (a conffile) and depends on the run-time libraries")
    func debContents() throws {
        let deb = try #require(Installed.deb, "MEDTAG_DEB names the package (make test-install)")
        let contents = shell("dpkg-deb -c \"$1\"", [deb.path])
        #expect(contents.status == 0, "\(contents.output)")
        for path in [
            "./usr/bin/medtag", "./etc/medtag/medtag.conf", "./usr/share/medtag/Models/es-pharmaconer-bilstm-crf/weights.safetensors",
            "./usr/share/medtag/Models/lexicon/lexicon.mtlx", "./usr/lib/systemd/system/medtag.service",
            "./usr/lib/systemd/system/medtag-nightly.timer", "./usr/lib/sysusers.d/medtag.conf", "./usr/lib/tmpfiles.d/medtag.conf",
            "./usr/share/doc/medtag/copyright", "./usr/share/man/man1/medtag.serve.1.gz",
        ] {
            #expect(contents.output.contains(" \(path)\n"), "the package holds \(path)")
        }
        let conffiles = shell("dpkg-deb --ctrl-tarfile \"$1\" | tar -xOf - ./conffiles", [deb.path])
        #expect(conffiles.output == "/etc/medtag/medtag.conf\n")
        let unit = shell("dpkg-deb --fsys-tarfile \"$1\" | tar -xOf - ./usr/lib/systemd/system/medtag.service", [deb.path])
        #expect(unit.output.contains("ExecStart=/usr/bin/medtag serve"), "the units name the packaged binary")
        // Every library the binary needs comes from a package the .deb depends on.
        let depends = shell("dpkg-deb -f \"$1\" Depends", [deb.path]).output
        let owners = shell(
            """
            for lib in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p'); do
                path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
                # As ldconfig lists it, else through its links (alternatives), in /usr or not.
                real=$(readlink -f "$path")
                for candidate in "$path" "$real" "${real#/usr}"; do
                    dpkg -S "$candidate" 2>/dev/null | cut -d: -f1 | grep . && break
                done || echo "no package owns $lib ($path)"
            done
            """, [Installed.binary.path])
        #expect(owners.status == 0, "\(owners.output)")
        let packages = Set(depends.split(whereSeparator: { ", |\n".contains($0) }).map(String.init))
        for owner in Set(owners.output.split(separator: "\n").map(String.init)) {
            #expect(packages.contains(owner), "Depends (\(depends.trimmingCharacters(in: .whitespacesAndNewlines))) names \(owner)")
        }
    }

    @Test(
        "dpkg -i in a throwaway root: the medtag user and the spool, nothing enabled, the nightly's command annotates, the edited configuration survives a reinstall, purge removes it",
        .enabled(if: Installed.canMakeThrowawayRoot, "no throwaway root here (needs root, mount namespaces and overlayfs): dpkg -i not tried"))
    func dpkgInstall() throws {
        let deb = try #require(Installed.deb, "MEDTAG_DEB names the package (make test-install)")
        let toolchain = try #require(Installed.toolchain, "cannot tell where the Swift toolchain is")
        let stage = FileManager.default.temporaryDirectory.appendingPathComponent("medtag-deb-\(UUID().uuidString.prefix(8))")
        let folder = stage.appendingPathComponent("srv/medtag-test")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: stage) }
        try FileManager.default.copyItem(at: deb, to: folder.appendingPathComponent("medtag.deb"))
        try FileManager.default.copyItem(
            at: Paths.packageRoot.appendingPathComponent("samples/caso-clinico.txt"), to: folder.appendingPathComponent("nota.txt"))
        let script = """
            set -u
            cd /srv/medtag-test
            dpkg -i medtag.deb >/dev/null 2>&1 || { echo "dpkg -i failed"; dpkg -i medtag.deb; exit 1; }
            echo "user: $(getent passwd medtag | cut -d: -f1,6,7)"
            echo "spool: $(stat -c '%U:%G %a' /var/spool/medtag/inbox /var/spool/medtag/nightly | tr '\\n' ' ')"
            echo "enabled: $(systemctl is-enabled medtag.service medtag-nightly.timer 2>&1 | tr '\\n' ' ')"
            # What the timer starts, as the unit runs it: its ExecStart, as medtag, in the spool.
            cp nota.txt /var/spool/medtag/nightly/ && chown medtag:medtag /var/spool/medtag/nightly/nota.txt
            command=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/medtag-nightly.service)
            (cd /var/spool/medtag && setpriv --reuid=medtag --regid=medtag --init-groups $command) || echo "nightly failed"
            echo "result: $(grep -c . /var/spool/medtag/outbox/nota.txt/nota.ann) lines, $(stat -c %U /var/spool/medtag/outbox/nota.txt/nota.ann)"
            echo "retention_days = 7" >> /etc/medtag/medtag.conf
            dpkg -i medtag.deb >/dev/null 2>&1 || echo "reinstall failed"
            echo "kept: $(grep -c '^retention_days = 7$' /etc/medtag/medtag.conf)"
            dpkg --purge medtag >/dev/null 2>&1 || echo "purge failed"
            echo "after purge: $(ls /usr/bin/medtag /etc/medtag /usr/share/medtag 2>/dev/null | wc -l) left, status $(dpkg-query -W -f='${Status}' medtag 2>&1 | head -c 40)"
            """
        let run = shell("\"$1\" --copy \"$2\" --hide \"$3\" -- bash -c \"$4\"", [Installed.throwawayRoot, stage.path, toolchain, script])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("user: medtag:/var/spool/medtag:/usr/sbin/nologin"), "\(run.output)")
        #expect(run.output.contains("spool: medtag:medtag 2770 medtag:medtag 2770"), "\(run.output)")
        #expect(run.output.contains("enabled: disabled disabled"), "\(run.output)")
        #expect(run.output.contains("result: ") && !run.output.contains("result: 0 lines") && run.output.contains("lines, medtag"), "\(run.output)")
        #expect(!run.output.contains("failed"), "\(run.output)")
        #expect(run.output.contains("kept: 1"), "\(run.output)")
        #expect(run.output.contains("after purge: 0 left"), "\(run.output)")
    }
}
