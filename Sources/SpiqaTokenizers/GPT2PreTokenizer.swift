// The GPT-2 pre-tokenizer regex, by hand over Unicode scalars:
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// with the Python `regex` module's semantics: alternatives are tried in order at each position
// (first match wins, not the longest), `\s` = Unicode White_Space, `\p{L}` / `\p{N}` = general
// categories L* / N*, and the literal space in ` ?` is U+0020 only. Case-sensitive: `'S` is not a
// contraction.

enum GPT2PreTokenizer {
  enum Class: UInt8 { case letter, number, space, other }

  @inline(__always)
  static func classify(_ s: Unicode.Scalar) -> Class {
    let v = s.value
    if v < 128 {
      if (97...122).contains(v) || (65...90).contains(v) { return .letter }
      if (48...57).contains(v) { return .number }
      if v == 32 || (9...13).contains(v) { return .space }
      return .other
    }
    let p = s.properties
    if p.isWhitespace { return .space }
    switch p.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
    case .decimalNumber, .letterNumber, .otherNumber: return .number
    default: return .other
    }
  }

  /// Pre-token boundaries of `s[range]` as scalar ranges (covering the range exactly).
  static func split(_ s: [Unicode.Scalar], _ range: Range<Int>) -> [Range<Int>] {
    var out: [Range<Int>] = []
    let n = range.upperBound
    @inline(__always) func c(_ i: Int) -> Class { classify(s[i]) }

    var i = range.lowerBound
    while i < n {
      // 's 't 're 've 'm 'll 'd
      if s[i] == "'" && i + 1 < n {
        let a = s[i + 1]
        if a == "s" || a == "t" || a == "m" || a == "d" {
          out.append(i..<(i + 2)); i += 2; continue
        }
        if i + 2 < n {
          let b = s[i + 2]
          if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") {
            out.append(i..<(i + 3)); i += 3; continue
          }
        }
      }
      // Optional U+0020 then a run of one class: letters, numbers, or "other".
      let hasSpace = s[i] == " " && i + 1 < n
      let first = hasSpace ? i + 1 : i
      let k = c(first)
      if k != .space {
        var j = first + 1
        while j < n && c(j) == k { j += 1 }
        out.append(i..<j)
        i = j
        continue
      }
      // Whitespace: \s+(?!\S) takes the run but leaves its last scalar before a non-space;
      // a single whitespace before a non-space falls through to \s+.
      var j = i + 1
      while j < n && c(j) == .space { j += 1 }
      if j < n && j - i >= 2 { j -= 1 }
      out.append(i..<j)
      i = j
    }
    return out
  }
}
