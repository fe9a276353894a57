import Foundation
import MedtagModel
import Testing

@testable import MedtagSpool
import MedtagTestSupport

@Suite("configuration and names")
struct SpoolUnitTests {
    @Test("the shipped configuration parses, and an empty one gives the defaults")
    func shippedConfiguration() throws {
        let shipped = try SpoolConfiguration.load(from: .init(Paths.packageRoot.appendingPathComponent("etc/medtag/medtag.conf").path))
        #expect(shipped.spool == "/var/spool/medtag")
        #expect(shipped.workers >= 1)
        #expect(try SpoolConfiguration.parse("") == SpoolConfiguration())
    }

    @Test("values, sizes and comments")
    func values() throws {
        let configuration = try SpoolConfiguration.parse(
            """
            # comment
            spool = /srv/spool   # trailing comment
            workers = 4
            formats = csv, brat
            keep_inputs = no
            archive_max_member_size = 2M
            archive_max_depth = 0
            """)
        #expect(configuration.spool == "/srv/spool")
        #expect(configuration.workers == 4)
        #expect(configuration.formats == [.csv, .brat])
        #expect(configuration.keepInputs == false)
        #expect(configuration.archive.maxMemberBytes == 2 << 20)
        #expect(configuration.archive.maxDepth == 0)
    }

    @Test("`model`, `lexicon` and each language's own keys become the catalog's choices")
    func modelChoices() throws {
        let configuration = try SpoolConfiguration.parse(
            """
            model = es-pharmaconer-gazetteer
            lexicon = /srv/lexicon
            model_en = /srv/english-model
            lexicon_en = /srv/lexicon-en
            """)
        #expect(configuration.models == [.english: "/srv/english-model"])
        #expect(configuration.lexicons == [.english: "/srv/lexicon-en"])
        let choices = configuration.modelChoices
        #expect(choices.model == "es-pharmaconer-gazetteer")
        #expect(choices.lexicon?.path == "/srv/lexicon")
        #expect(choices.models == [.english: "/srv/english-model"])
        #expect(choices.lexicons[.english]?.path == "/srv/lexicon-en")
        #expect(try SpoolConfiguration.parse("model_en =\nlexicon_en =").modelChoices == ModelCatalog.Choices())
        #expect(throws: SpoolError.self) { try SpoolConfiguration.parse("model_es = /srv/model") }
    }

    @Test("errors name the file, the line and the key", arguments: [
        ("workers = 0", "medtag.conf:1: workers"),
        ("\nformats = pdf", "medtag.conf:2: formats: unknown format `pdf`"),
        ("colour = blue", "medtag.conf:1: unknown key `colour`"),
        ("just words", "medtag.conf:1: expected `key = value`"),
        // A key given twice: the later line is named, with the line it repeats.
        ("workers = 2\n# more workers\nWorkers = 4", "medtag.conf:3: workers: given again: line 1 sets it already"),
        ("model = /opt/m\nspool = /srv\nmodel =", "medtag.conf:3: model: given again: line 1 sets it already"),
    ])
    func errors(text: String, message: String) {
        #expect {
            try SpoolConfiguration.parse(text)
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test("names the spool leaves alone")
    func ignoredNames() {
        #expect(SpoolLayout.isIgnored(name: ".x.txt") && SpoolLayout.isIgnored(name: "x.txt.part") && SpoolLayout.isIgnored(name: "x.tmp"))
        #expect(!SpoolLayout.isIgnored(name: "x.txt"))
    }

    @Test("sd_notify datagrams reach an abstract-namespace socket name too")
    func notifierWithoutSocket() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.notify("READY=1"))
        let watched = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@medtag-test", "WATCHDOG_USEC": "2000000"])
        #expect(watched.isEnabled)
        #expect(watched.watchdogInterval == 2)
    }
}
