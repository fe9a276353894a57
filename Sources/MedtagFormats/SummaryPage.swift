/// A ``RunSummary`` as one self-contained HTML page: figures, bar charts in inline SVG, the most
/// frequent mentions, the mentions left without a code, refusals and links to the result files.
///
/// The page loads nothing (no scripts, fonts, styles or images from elsewhere) and runs no script:
/// its content security policy forbids scripts outright. Every piece of text that comes from the
/// input (mentions, file names, reasons) is escaped, so a note holding markup shows it as text.
/// The markup is also well-formed XML.
public enum SummaryPage {
    /// The page's name inside a result folder.
    public static let fileName = "summary.html"
    /// How many mentions each mention table lists.
    public static let mentionRows = 50

    /// The page's bytes (UTF-8).
    public static func render(_ summary: RunSummary, version: String? = nil) -> [UInt8] {
        Array(html(summary, version: version).utf8)
    }

    /// The page's text.
    public static func html(_ summary: RunSummary, version: String? = nil) -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>medtag summary: \(Markup.escape(summary.title))</title>
            <style>\(style)</style>
            </head>
            <body>
            <h1>\(Markup.escape(summary.title))</h1>\n
            """
        page += figures(summary)
        if !summary.notes.isEmpty {
            page += "<ul class=\"notes\">" + summary.notes.map { "<li>\(Markup.escape($0))</li>" }.joined() + "</ul>\n"
        }
        let tally = summary.entities
        page += section("labels", "Entities per label", chart(tally.labels.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }, color: "#3b6ea8"))
        let order = ["exact", "abbreviation", "brand", "levenshtein", "fuzzy", RunSummary.nullCode, RunSummary.noCode]
        let methods = tally.methods.sorted { a, b in
            let (i, j) = (order.firstIndex(of: a.key) ?? order.count, order.firstIndex(of: b.key) ?? order.count)
            return i != j ? i < j : a.key < b.key
        }
        page += section("normalization", "Normalization", chart(methods, color: "#4c8a4a"))
        page += section("mentions", "Most frequent mentions", mentionTable(tally.mostFrequent(mentionRows), coded: true))
        let review = tally.withoutCodeCount
        page += section(
            "uncoded", "Mentions without a code",
            "<p>\(number(review.occurrences)) mention\(review.occurrences == 1 ? "" : "s") (\(number(review.distinct)) distinct) "
                + "have no SNOMED-CT code: a curator should look at these first.</p>\n"
                + mentionTable(tally.withoutCode(mentionRows), coded: false))
        page += section("refused", "Refused", refusals(summary))
        page += section("files", "Result files", files(summary))
        page += "<footer>Written by medtag\(version.map { " " + Markup.escape($0) } ?? "").</footer>\n</body>\n</html>\n"
        return page
    }

    // MARK: Sections

    private static func figures(_ summary: RunSummary) -> String {
        var rows: [(String, String, String)] = [
            ("documents-read", "Documents read", number(summary.documentsRead)),
            ("documents-annotated", "Annotated", number(summary.documentsAnnotated)),
            ("documents-refused", "Refused", number(summary.documentsRefused)),
            ("tokens", "Tokens", number(summary.tokens)),
            ("entities", "Entities", number(summary.entities.total)),
        ]
        if let seconds = summary.seconds {
            var time = duration(seconds)
            if seconds > 0, summary.tokens > 0 { time += " (\(number(Int((Double(summary.tokens) / seconds).rounded()))) tokens/s)" }
            rows.append(("time", "Time", Markup.escape(time)))
        }
        if let finished = summary.finished { rows.append(("finished", "Finished", Markup.escape(finished))) }
        rows.append(("model", "Model", counted(summary.models)))
        rows.append(("lexicon", "Lexicon", counted(summary.lexicons)))
        rows.append(("language", "Language", counted(summary.languages)))
        return "<table class=\"figures\">\n"
            + rows.map { "<tr><th>\($0.1)</th><td id=\"\($0.0)\">\($0.2)</td></tr>\n" }.joined() + "</table>\n"
    }

    /// `name (n documents), …`, escaped; a dash when empty.
    private static func counted(_ values: [String: Int]) -> String {
        guard !values.isEmpty else { return "–" }
        if values.count == 1, let only = values.first { return Markup.escape(only.key) }
        return values.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .map { "\(Markup.escape($0.key)) (\(number($0.value)) document\($0.value == 1 ? "" : "s"))" }.joined(separator: ", ")
    }

    private static func section(_ id: String, _ title: String, _ body: String) -> String {
        "<section id=\"\(id)\">\n<h2>\(title)</h2>\n\(body)</section>\n"
    }

    /// A horizontal bar chart: one bar per value, the label on the left, the count on the right.
    private static func chart(_ bars: [(key: String, value: Int)], color: String) -> String {
        guard !bars.isEmpty else { return "<p class=\"empty\">None.</p>\n" }
        let rowHeight = 24
        let labelWidth = 220
        let barWidth = 360
        let width = labelWidth + barWidth + 90
        let height = bars.count * rowHeight + 8
        let largest = max(bars.map(\.value).max() ?? 1, 1)
        var svg = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" role=\"img\">\n"
        for (index, bar) in bars.enumerated() {
            let y = 4 + index * rowHeight
            let length = max(Int((Double(bar.value) / Double(largest) * Double(barWidth)).rounded()), bar.value > 0 ? 2 : 0)
            let shown = bar.key.count > 30 ? String(bar.key.prefix(29)) + "…" : bar.key
            svg += "<g class=\"bar\"><title>\(Markup.escape(bar.key)): \(bar.value)</title>"
                + "<text class=\"label\" x=\"\(labelWidth - 8)\" y=\(quoted(y + 16)) text-anchor=\"end\">\(Markup.escape(shown))</text>"
                + "<rect x=\"\(labelWidth)\" y=\(quoted(y + 3)) width=\(quoted(length)) height=\"\(rowHeight - 6)\" fill=\"\(color)\"/>"
                + "<text class=\"count\" x=\(quoted(labelWidth + length + 6)) y=\(quoted(y + 16))>\(bar.value)</text></g>\n"
        }
        return svg + "</svg>\n"
    }

    private static func mentionTable(_ rows: [(mention: EntityTally.Mention, count: Int)], coded: Bool) -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">None.</p>\n" }
        let head = coded
            ? "<tr><th>Mention</th><th>Label</th><th>SNOMED-CT code</th><th>Term</th><th>Method</th><th class=\"n\">Count</th></tr>\n"
            : "<tr><th>Mention</th><th>Label</th><th>Why</th><th>Closest candidate</th><th class=\"n\">Count</th></tr>\n"
        var table = "<table class=\"mentions\">\n" + head
        for (mention, count) in rows {
            table += "<tr><td>\(Markup.escape(mention.text))</td><td>\(Markup.escape(mention.label))</td>"
            if coded {
                table += "<td>\(Markup.escape(mention.code ?? ""))</td><td>\(Markup.escape(mention.term ?? ""))</td><td>\(Markup.escape(mention.method ?? ""))</td>"
            } else {
                let why = mention.reasonWithoutCode ?? ""
                table += "<td>\(Markup.escape(why))</td><td>\(Markup.escape(mention.term ?? ""))</td>"
            }
            table += "<td class=\"n\">\(number(count))</td></tr>\n"
        }
        return table + "</table>\n"
    }

    private static func refusals(_ summary: RunSummary) -> String {
        guard !summary.refused.isEmpty else { return "<p class=\"empty\">None.</p>\n" }
        var table = "<table class=\"refused\">\n<tr><th>Document</th><th>Reason</th></tr>\n"
        for refusal in summary.refused {
            table += "<tr><td>\(Markup.escape(refusal.path))</td><td>\(Markup.escape(refusal.reason))</td></tr>\n"
        }
        table += "</table>\n"
        let more = summary.documentsRefused - summary.refused.count
        if more > 0 { table += "<p>… and \(number(more)) more, listed in the results' report.</p>\n" }
        return table
    }

    private static func files(_ summary: RunSummary) -> String {
        var body = ""
        if !summary.links.isEmpty {
            body += "<ul class=\"links\">" + summary.links.map { "<li>\(link($0.title, $0.href))</li>" }.joined() + "</ul>\n"
        }
        guard !summary.documents.isEmpty else { return body + "<p class=\"empty\">No document annotated.</p>\n" }
        body += "<table class=\"documents\">\n<tr><th>Document</th><th>Language</th><th class=\"n\">Tokens</th>"
            + "<th class=\"n\">Entities</th><th>Files</th></tr>\n"
        for row in summary.documents {
            let links = row.files.map { link(lastComponent($0), $0) }.joined(separator: " ")
            body += "<tr><td>\(Markup.escape(row.path))\(row.note.map { "<br/><small>\(Markup.escape($0))</small>" } ?? "")</td>"
                + "<td>\(Markup.escape(row.language ?? ""))</td><td class=\"n\">\(number(row.tokens))</td>"
                + "<td class=\"n\">\(number(row.entities))</td><td>\(links)</td></tr>\n"
        }
        body += "</table>\n"
        let more = summary.documentsAnnotated - summary.documents.count
        if more > 0 { body += "<p>… and \(number(more)) more documents in this folder.</p>\n" }
        return body
    }

    // MARK: Escaping and formatting

    /// A relative link: the path percent-encoded byte by byte (only letters, digits, `-._~` and `/`
    /// kept, so no file name can become a scheme such as `javascript:`), starting with `./` or `../`.
    public static func href(_ path: String) -> String {
        var out = path.hasPrefix("../") ? "" : "./"
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }

    private static func link(_ title: String, _ path: String) -> String {
        "<a href=\"\(Markup.escape(href(path)))\">\(Markup.escape(title))</a>"
    }

    private static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private static func quoted(_ value: Int) -> String { "\"\(value)\"" }

    /// An integer with thousands separated by commas.
    public static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// `42.1 s`, `3 min 5 s`, `2 h 4 min`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return seconds < 10 ? "\(Double(Int(seconds * 100)) / 100) s" : "\(Double(Int(seconds * 10)) / 10) s" }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \(whole % 3600 / 60) min"
    }

    private static let style = """
        body{font-family:sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222;background:#fff}\
        h1{font-size:1.5em;word-break:break-all}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}\
        table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .6em;text-align:left;vertical-align:top;\
        border-bottom:1px solid #eee}td{overflow-wrap:anywhere}table.mentions td{overflow-wrap:normal}.n{text-align:right}table.figures th{width:12em}\
        svg.chart text{font-family:sans-serif;font-size:13px;fill:#222}.notes li{color:#8a4b00}\
        .empty{color:#777}footer{margin-top:2em;color:#777;font-size:.85em}
        """
}
