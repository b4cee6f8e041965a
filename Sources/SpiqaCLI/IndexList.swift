import ArgumentParser

/// Parses an index list such as `0,3-5` into sorted unique indices `[0, 3, 4, 5]`.
///
/// Items are non-negative integers or inclusive ranges `a-b` with `a ≤ b`, separated by commas.
/// - Parameter limit: indices must be below this (e.g. the number of layers), if given.
/// - Throws: `ValidationError` naming the bad item.
public func parseIndexList(_ text: String, limit: Int? = nil) throws -> [Int] {
  var out = Set<Int>()
  let items = text.split(separator: ",", omittingEmptySubsequences: false)
  for raw in items {
    let item = raw.trimmingCharacters()
    guard !item.isEmpty else { throw ValidationError("empty item in index list '\(text)'") }
    let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
    guard bounds.count <= 2, let lo = Int(bounds[0]), lo >= 0, let hi = bounds.count == 2 ? Int(bounds[1]) : lo else {
      throw ValidationError("'\(item)' in index list '\(text)' is not an index or a range like 3-5")
    }
    guard lo <= hi else { throw ValidationError("range '\(item)' in '\(text)' runs backwards") }
    if let limit, hi >= limit {
      throw ValidationError("index \(hi) in '\(text)' is out of range (0..<\(limit))")
    }
    guard hi - lo < 1 << 20, out.count + (hi - lo) < 1 << 22 else {
      throw ValidationError("index list '\(text)' is too long")
    }
    for i in lo...hi { out.insert(i) }
  }
  return out.sorted()
}

extension Substring {
  fileprivate func trimmingCharacters() -> Substring {
    var s = self
    while let c = s.first, c == " " { s = s.dropFirst() }
    while let c = s.last, c == " " { s = s.dropLast() }
    return s
  }
}
