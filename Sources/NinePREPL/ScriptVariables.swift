/// `${NAME}` substitution in REPL lines, from `ninescope repl --define NAME=VALUE`: one script can then
/// serve several servers (an export path as aname, a user id) without editing it.
public struct ScriptVariables: Sendable, Equatable {
    public private(set) var values: [String: String] = [:]

    public init() {}

    /// Parses `NAME=VALUE` definitions (NAME: letters, digits, `_`, not starting with a digit).
    public init(definitions: [String]) throws(ScriptVariableError) {
        for d in definitions {
            guard let eq = d.firstIndex(of: "=") else { throw ScriptVariableError("'\(d)' is not NAME=VALUE") }
            let name = String(d[..<eq])
            guard Self.isName(name) else { throw ScriptVariableError("'\(name)' is not a variable name") }
            values[name] = String(d[d.index(after: eq)...])
        }
    }

    static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// The line with every `${NAME}` replaced (`${NAME:-DEFAULT}` falls back to DEFAULT when NAME is not
    /// defined); `$$` stands for a literal `$`. An undefined name without a default, or an unclosed `${`,
    /// is an error naming its column (1-based).
    public func expand(_ line: String) throws(ScriptVariableError) -> String {
        guard line.contains("$") else { return line }
        var out = ""
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            let next = line.index(after: i)
            guard c == "$", next < line.endIndex else { out.append(c); i = next; continue }
            if line[next] == "$" { out.append("$"); i = line.index(after: next); continue }
            guard line[next] == "{" else { out.append(c); i = next; continue }
            let column = line.distance(from: line.startIndex, to: i) + 1
            guard let close = line[next...].firstIndex(of: "}") else {
                throw ScriptVariableError("column \(column): '${' without '}'")
            }
            var name = String(line[line.index(after: next)..<close])
            var fallback: String?
            if let colon = name.firstIndex(of: ":"), name[name.index(after: colon)...].first == "-" {
                fallback = String(name[name.index(colon, offsetBy: 2)...])
                name = String(name[..<colon])
            }
            guard let value = values[name] ?? fallback else {
                throw ScriptVariableError("column \(column): ${\(name)} is not defined (define it with --define \(name)=VALUE)")
            }
            out += value
            i = line.index(after: close)
        }
        return out
    }
}

public struct ScriptVariableError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
