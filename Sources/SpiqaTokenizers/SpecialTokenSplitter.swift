/// Splits text on occurrences of special-token strings (leftmost match, longest special first).
/// Segments are scalar ranges of the text, each either a special (with its id) or plain text.
struct SpecialTokenSplitter: Sendable {
  struct Segment {
    var range: Range<Int>
    var specialId: Int?
    /// Position of the matched special in the list given to `init`.
    var specialIndex: Int? = nil
  }

  private struct Candidate: Sendable {
    var scalars: [Unicode.Scalar]
    var id: Int
    var index: Int
  }
  private let candidates: [Candidate]
  private let firsts: [Unicode.Scalar]

  init(_ specials: [(scalars: [Unicode.Scalar], id: Int)]) {
    candidates = specials.enumerated().filter { !$0.element.scalars.isEmpty }
      .map { Candidate(scalars: $0.element.scalars, id: $0.element.id, index: $0.offset) }
      .sorted { $0.scalars.count > $1.scalars.count }
    var f: [Unicode.Scalar] = []
    for c in candidates where !f.contains(c.scalars[0]) { f.append(c.scalars[0]) }
    firsts = f
  }

  func split(_ scalars: [Unicode.Scalar]) -> [Segment] {
    let n = scalars.count
    var out: [Segment] = []
    var start = 0
    var i = 0
    while i < n {
      if firsts.contains(scalars[i]) {
        var matched: Candidate? = nil
        for c in candidates where i + c.scalars.count <= n {
          var ok = true
          for k in 0..<c.scalars.count where scalars[i + k] != c.scalars[k] { ok = false; break }
          if ok { matched = c; break }
        }
        if let c = matched {
          if start < i { out.append(Segment(range: start..<i, specialId: nil)) }
          out.append(Segment(range: i..<(i + c.scalars.count), specialId: c.id, specialIndex: c.index))
          i += c.scalars.count
          start = i
          continue
        }
      }
      i += 1
    }
    if start < n { out.append(Segment(range: start..<n, specialId: nil)) }
    return out
  }
}
