import Foundation
import MedtagText
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@testable import MedtagFormats

/// Every element and attribute of a page, parsed as XML (the page is well-formed markup).
private struct ParsedPage {
    var elements: [String] = []
    var attributes: [(element: String, name: String, value: String)] = []
    var text = ""

    init(_ html: String) throws {
        // The doctype is HTML's, not XML's: drop it for the XML parser.
        let xml = html.replacingOccurrences(of: "<!DOCTYPE html>", with: "")
        let document = try XMLDocument(data: Data(xml.utf8), options: [])
        guard let root = document.rootElement() else { throw CocoaError(.fileReadCorruptFile) }
        visit(root)
    }

    private mutating func visit(_ node: XMLNode) {
        if let element = node as? XMLElement {
            let name = element.localName ?? element.name ?? ""
            elements.append(name)
            for attribute in element.attributes ?? [] {
                attributes.append((name, attribute.localName ?? attribute.name ?? "", attribute.stringValue ?? ""))
            }
            for child in element.children ?? [] { visit(child) }
        } else if node.kind == .text {
            text += node.stringValue ?? ""
        }
    }
}

private func entity(_ id: Int, _ label: String, _ text: String, code: String? = nil, term: String? = nil, method: String? = nil) -> Entity {
    Entity(id: "T\(id)", label: label, start: 0, end: text.unicodeScalars.count, text: text, code: code, term: term, method: method)
}

@Suite struct SummaryPageTests {
    @Test func tallyCountsLabelsOutcomesAndMentions() {
        var tally = EntityTally()
        tally.add([
            entity(1, "NORMALIZABLES", "enalapril", code: "372658000", term: "enalapril", method: "exact"),
            entity(2, "NORMALIZABLES", "enalapril", code: "372658000", term: "enalapril", method: "exact"),
            entity(3, "NORMALIZABLES", "AAS", code: "387458008", term: "aspirina", method: "abbreviation"),
            entity(4, "PROTEINAS", "proteína X", code: "<null>", method: "none"),
            entity(5, "NO_NORMALIZABLES", "fármacos", code: "<null>", method: "label"),
            entity(6, "PROTEINAS", "IgG", code: nil),
        ])
        #expect(tally.total == 6)
        #expect(tally.labels == ["NORMALIZABLES": 3, "PROTEINAS": 2, "NO_NORMALIZABLES": 1])
        #expect(tally.methods == ["exact": 2, "abbreviation": 1, "<null>": 2, "no code": 1])
        let frequent = tally.mostFrequent(10)
        #expect(frequent.map(\.mention.text) == ["enalapril", "AAS"] && frequent.first?.count == 2)
        // A label the guidelines leave uncoded is not for review; no code and a failed match are.
        #expect(Set(tally.withoutCode(10).map(\.mention.text)) == ["proteína X", "IgG"])
        #expect(tally.withoutCodeCount == (2, 2))
    }

    /// The page says why a mention has no code, not which step of the cascade decided: `exact`
    /// there means the lexicon holds the mention as `<null>`, which a curator would read as a match.
    @Test func mentionsWithoutACodeSayWhy() throws {
        var found = EntityTally()
        found.add([
            entity(1, "PROTEINAS", "AZFa", code: "<null>", method: "exact"),
            entity(2, "NORMALIZABLES", "Kreón", code: "<null>", term: "enzimas pancreáticas [443590003]", method: "fuzzy-rejected"),
            entity(3, "NORMALIZABLES", "Matrix", code: "<null>", method: "none"),
            entity(4, "PROTEINAS", "Antígeno", code: "<null>", method: "uncoded-name"),
            entity(5, "PROTEINAS", "IgG", code: nil),
            entity(6, "NO_NORMALIZABLES", "fármacos", code: "<null>", method: "label"),
        ])
        var scored = found
        var rejected = entity(7, "NORMALIZABLES", "calcimimético", code: "<null>", term: "calcio [5540006]", method: "fuzzy-rejected")
        rejected.score = 0.6154
        scored.add([rejected])
        var summary = RunSummary(title: "noche.zip")
        summary.add(RunSummary.DocumentRow(path: "n1", tokens: 9, entities: 7), entities: scored, lexicon: "lexicon")
        let page = SummaryPage.html(summary)
        let section = try #require(page.components(separatedBy: "Mentions without a code").last?.components(separatedBy: "</table>").first)
        func row(_ mention: String) -> String { section.components(separatedBy: "<tr>").first { $0.hasPrefix("<td>\(Markup.escape(mention))</td>") } ?? "" }
        #expect(row("AZFa").contains("<td>in the lexicon without a code (&lt;null&gt; in the annotated corpus)</td>"), "\(row("AZFa"))")
        #expect(row("Kreón").contains("<td>closest candidate rejected</td><td>enzimas pancreáticas [443590003]</td>"), "\(row("Kreón"))")
        #expect(row("calcimimético").contains("<td>closest candidate rejected (similarity 0.6154)</td><td>calcio [5540006]</td>"), "\(row("calcimimético"))")
        #expect(row("Matrix").contains("<td>no lexicon entry, and none close enough</td>"), "\(row("Matrix"))")
        #expect(row("Antígeno").contains("<td>a known name with no code in the lexicon (name list)</td>"), "\(row("Antígeno"))")
        #expect(row("IgG").contains("<td>not normalized: no lexicon for its language</td>"), "\(row("IgG"))")
        #expect(row("fármacos").isEmpty, "a label the guidelines leave uncoded is not for review")
        for step in ["exact", "none", "fuzzy-rejected", "uncoded-name"] {
            #expect(!section.contains("<td>\(step)</td>"), "the step name \(step) is no reason")
        }
    }

    @Test func summariesOfInputsAddUpUnderTheirFolders() {
        var one = RunSummary(title: "a.tar.gz")
        var found = EntityTally()
        found.add([entity(1, "PROTEINAS", "insulina", code: "1", method: "exact")])
        one.add(RunSummary.DocumentRow(path: "notas/n1", tokens: 10, entities: 1, language: "es", model: "m", files: ["notas/n1.ann"]), entities: found, lexicon: "lexicon")
        one.refuse("notas/x.pdf", reason: "unsupported member type")
        var run = RunSummary(title: "ingest")
        run.add(one, named: "a.tar.gz", folder: "../a.tar.gz")
        run.add(one, named: "b.zip", folder: "../b.zip")
        #expect(run.documentsAnnotated == 2 && run.documentsRefused == 2 && run.documentsRead == 4 && run.tokens == 20)
        #expect(run.documents.map(\.files) == [["../a.tar.gz/notas/n1.ann"], ["../b.zip/notas/n1.ann"]])
        #expect(run.documents.map(\.path) == ["a.tar.gz/notas/n1", "b.zip/notas/n1"])
        #expect(run.refused.map(\.path) == ["a.tar.gz/notas/x.pdf", "b.zip/notas/x.pdf"])
        #expect(run.entities.labels == ["PROTEINAS": 2] && run.models == ["m": 2] && run.lexicons == ["lexicon": 2])
    }

    @Test func listsAreCappedButCountsCoverEverything() {
        var summary = RunSummary(title: "big", listLimit: 3)
        for k in 0..<10 {
            summary.add(RunSummary.DocumentRow(path: "d\(k)", tokens: 1, entities: 0), entities: EntityTally(), lexicon: nil)
            summary.refuse("r\(k)", reason: "bad")
        }
        #expect(summary.documents.count == 3 && summary.refused.count == 3)
        #expect(summary.documentsAnnotated == 10 && summary.documentsRefused == 10)
        let page = SummaryPage.html(summary)
        #expect(page.contains("… and 7 more documents"))
        #expect(page.contains("… and 7 more, listed"))
    }

    @Test func pageShowsTheFiguresChartsAndLinks() throws {
        var summary = RunSummary(title: "noche.tar.gz")
        summary.seconds = 12.5
        summary.links = [RunSummary.Link(title: "Every entity (CSV)", href: "medtag-all.csv")]
        var found = EntityTally()
        found.add([
            entity(1, "NORMALIZABLES", "enalapril", code: "372658000", term: "enalapril", method: "exact"),
            entity(2, "PROTEINAS", "IgG", code: "<null>", method: "none"),
        ])
        summary.add(
            RunSummary.DocumentRow(path: "notas/caso 1", tokens: 2_500, entities: 2, language: "es", model: "es-pharmaconer-bilstm-crf", files: ["notas/caso 1.ann"]),
            entities: found, lexicon: "lexicon")
        let parsed = try ParsedPage(SummaryPage.html(summary, version: "0.1.0"))
        #expect(parsed.elements.filter { $0 == "svg" }.count == 2, "two bar charts")
        #expect(!parsed.elements.contains("script") && !parsed.elements.contains("link") && !parsed.elements.contains("img"))
        let hrefs = parsed.attributes.filter { $0.name == "href" }.map(\.value)
        #expect(hrefs == ["./medtag-all.csv", "./notas/caso%201.ann"])
        // No attribute loads anything from elsewhere.
        #expect(!parsed.attributes.contains { $0.name == "src" })
        for expected in ["2,500", "es-pharmaconer-bilstm-crf", "372658000", "IgG", "12.5 s (200 tokens/s)", "NORMALIZABLES"] {
            #expect(parsed.text.contains(expected), "\(expected)")
        }
    }

    @Test func markupInNotesAndFileNamesStaysText() throws {
        let payloads = [
            "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "'><svg onload=alert(2)>",
            "javascript:alert(3)", "a&b<!--c-->\u{0}\u{1B}",
        ]
        var summary = RunSummary(title: payloads[1] + ".txt")
        summary.note(payloads[0])
        summary.links = [RunSummary.Link(title: payloads[2], href: payloads[3])]
        for (k, payload) in payloads.enumerated() {
            var found = EntityTally()
            found.add([entity(k, payload, payload, code: payload, term: payload, method: payload), entity(k, "P", payload)])
            summary.add(
                RunSummary.DocumentRow(path: payload + "/" + payload, tokens: 1, entities: 2, language: payload, model: payload, files: [payload + ".ann"], note: payload),
                entities: found, lexicon: payload)
            summary.refuse(payload, reason: payload)
        }
        let html = SummaryPage.html(summary, version: payloads[0])
        let parsed = try ParsedPage(html)
        let allowed: Set = [
            "html", "head", "meta", "title", "style", "body", "h1", "h2", "section", "table", "tr", "th", "td", "ul", "li",
            "p", "svg", "g", "text", "rect", "a", "br", "small", "footer",
        ]
        #expect(Set(parsed.elements).isSubset(of: allowed), "\(Set(parsed.elements).subtracting(allowed))")
        let names: Set = ["lang", "charset", "http-equiv", "content", "name", "class", "id", "xmlns", "width", "height", "viewBox", "role", "x", "y", "text-anchor", "fill", "href"]
        #expect(Set(parsed.attributes.map(\.name)).isSubset(of: names), "\(Set(parsed.attributes.map(\.name)).subtracting(names))")
        for href in parsed.attributes.filter({ $0.name == "href" }).map(\.value) {
            #expect(href.hasPrefix(".") && !href.contains(":") && !href.contains("<") && !href.contains("\""), "\(href)")
        }
        // The payloads are there, as text.
        for payload in payloads.dropLast() { #expect(parsed.text.contains(payload), "\(payload)") }
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<!--c"))
    }

    @Test func numbersAndDurationsReadWell() {
        #expect(SummaryPage.number(0) == "0" && SummaryPage.number(999) == "999" && SummaryPage.number(1_234_567) == "1,234,567")
        #expect(SummaryPage.duration(3.456) == "3.45 s" && SummaryPage.duration(185) == "3 min 5 s" && SummaryPage.duration(7_500) == "2 h 5 min")
    }
}
