import Foundation

/// A run of scalars that remembers, for each scalar, the original scalar index it came from.
struct TrackedScalars {
  var scalars: [Unicode.Scalar] = []
  var origins: [Int] = []

  mutating func append(_ s: Unicode.Scalar, from origin: Int) {
    scalars.append(s)
    origins.append(origin)
  }
  var isEmpty: Bool { scalars.isEmpty }
  var count: Int { scalars.count }
  mutating func removeAll() {
    scalars.removeAll(keepingCapacity: true)
    origins.removeAll(keepingCapacity: true)
  }
}

enum TextNormalization {
  /// Python `str.lower()` of a whole word (Final_Sigma context applied to U+03A3) when
  /// `finalSigma`, else per-scalar lowercasing (HF ≤ 4 slow with `do_lower_case`, and the Rust
  /// fast tokenizers).
  static func lowercase(_ w: TrackedScalars, finalSigma: Bool) -> TrackedScalars {
    var out = TrackedScalars()
    out.scalars.reserveCapacity(w.count)
    out.origins.reserveCapacity(w.count)
    for i in 0..<w.count {
      let s = w.scalars[i]
      let v = s.value
      if v < 128 {
        out.append((65...90).contains(v) ? Unicode.Scalar(v + 32)! : s, from: w.origins[i])
      } else if v == 0x03A3 && finalSigma && isFinalSigma(w.scalars, at: i) {
        out.append(Unicode.Scalar(0x03C2)!, from: w.origins[i])
      } else {
        for l in ScalarMemo.shared.lowercase(s) { out.append(l, from: w.origins[i]) }
      }
    }
    return out
  }

  /// CPython `handle_capital_sigma`: cased (case-ignorable)* Σ !((case-ignorable)* cased).
  static func isFinalSigma(_ s: [Unicode.Scalar], at i: Int) -> Bool {
    var j = i - 1
    while j >= 0 && PyUnicode.isCaseIgnorable(s[j]) { j -= 1 }
    guard j >= 0 && PyUnicode.isCased(s[j]) else { return false }
    j = i + 1
    while j < s.count && PyUnicode.isCaseIgnorable(s[j]) { j += 1 }
    return j == s.count || !PyUnicode.isCased(s[j])
  }

  /// `unicodedata.normalize("NFD", w)` then drop category Mn (BERT `_run_strip_accents`).
  static func stripAccents(_ w: TrackedScalars) -> TrackedScalars {
    if w.scalars.allSatisfy({ $0.value < 0xC0 }) { return w }  // nothing decomposes below U+00C0
    var d = TrackedScalars()
    for i in 0..<w.count {
      let s = w.scalars[i]
      if s.value < 0xC0 {
        d.append(s, from: w.origins[i])
      } else {
        for x in ScalarMemo.shared.decomposition(s) { d.append(x, from: w.origins[i]) }
      }
    }
    // Canonical ordering: stable sort of each run of non-starters by combining class.
    var i = 0
    while i < d.count {
      if d.scalars[i].properties.canonicalCombiningClass.rawValue == 0 { i += 1; continue }
      var j = i
      while j < d.count && d.scalars[j].properties.canonicalCombiningClass.rawValue != 0 { j += 1 }
      if j - i > 1 {
        let run = (i..<j).map { (d.scalars[$0], d.origins[$0]) }
          .enumerated()
          .sorted {
            let a = $0.element.0.properties.canonicalCombiningClass.rawValue
            let b = $1.element.0.properties.canonicalCombiningClass.rawValue
            return a != b ? a < b : $0.offset < $1.offset
          }
        for (k, e) in run.enumerated() {
          d.scalars[i + k] = e.element.0
          d.origins[i + k] = e.element.1
        }
      }
      i = j
    }
    var out = TrackedScalars()
    for k in 0..<d.count where PyUnicode.category(d.scalars[k]) != .nonspacingMark {
      out.append(d.scalars[k], from: d.origins[k])
    }
    return out
  }
}
