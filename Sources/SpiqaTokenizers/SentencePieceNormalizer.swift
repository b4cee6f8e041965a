import Foundation

/// Scalars being normalized, each with the range of original scalars it stands for (token offsets), aligned
/// like the Rust tokenizers crate's normalized strings so that token offsets match its `offset_mapping`.
struct AlignedScalars {
  var scalars: [Unicode.Scalar] = []
  var lo: [Int] = []
  var hi: [Int] = []

  var count: Int { scalars.count }

  mutating func append(_ s: Unicode.Scalar, _ l: Int, _ h: Int) {
    scalars.append(s)
    lo.append(l)
    hi.append(h)
  }

  mutating func reserve(_ n: Int) {
    scalars.reserveCapacity(n)
    lo.reserveCapacity(n)
    hi.reserveCapacity(n)
  }

  /// Copies `other[i]` with its alignment.
  mutating func copy(_ other: AlignedScalars, _ i: Int) { append(other.scalars[i], other.lo[i], other.hi[i]) }

  /// `new` in place of `other[r]`, aligned position by position as the Rust crate's transformations do: the k-th
  /// new scalar takes the k-th old one's alignment, extra new scalars the last old one's; surplus old ones vanish.
  mutating func appendReplacing(_ other: AlignedScalars, _ r: Range<Int>, _ new: [Unicode.Scalar]) {
    for (k, s) in new.enumerated() {
      let i = r.lowerBound + min(k, r.count - 1)
      append(s, other.lo[i], other.hi[i])
    }
  }

  /// Graphemes (extended grapheme clusters) as runs of scalar indices: Swift's `Character`s.
  /// Two adjacent ASCII scalars other than CR LF always have a grapheme break between them (and no rule looks back
  /// across ASCII), so only the stretches between such breaks are handed to `Character` segmentation.
  func graphemes(_ body: (Range<Int>) -> Void) {
    let n = scalars.count
    var start = 0
    while start < n {
      var j = start + 1
      while j < n {
        let a = scalars[j - 1].value, b = scalars[j].value
        if a < 0x80 && b < 0x80 && !(a == 0x0D && b == 0x0A) { break }
        j += 1
      }
      if j - start == 1 {
        body(start..<j)
      } else {
        var i = start
        for ch in String(String.UnicodeScalarView(scalars[start..<j])) {
          let k = ch.unicodeScalars.count
          body(i..<(i + k))
          i += k
        }
      }
      start = j
    }
  }
}

/// One step of a `tokenizer.json` normalizer as the Rust tokenizers crate applies it (docs/tokenizers.md).
enum SentencePieceNormalizer: Sendable {
  /// `Replace` with a literal pattern: non-overlapping matches, left to right.
  case replaceLiteral([Unicode.Scalar], with: [Unicode.Scalar])
  /// `Replace` with a regex of the form `c{n,}` / `c+`: runs of at least `minimum` copies of one scalar.
  case replaceRun(Unicode.Scalar, minimum: Int, with: [Unicode.Scalar])
  case lowercase
  case unicode(UnicodeForm)
  /// Drop combining marks (General_Category M: Mn, Mc, Me).
  case stripAccents
  case strip(left: Bool, right: Bool)
  case prepend([Unicode.Scalar])
  case precompiled(PrecompiledCharsmap)

  enum UnicodeForm: Sendable { case nfc, nfd, nfkc, nfkd }

  func apply(_ t: AlignedScalars) -> AlignedScalars {
    switch self {
    case .replaceLiteral(let pattern, let content): return Self.replace(t, content) { i in
        guard i + pattern.count <= t.count else { return 0 }
        for k in 0..<pattern.count where t.scalars[i + k] != pattern[k] { return 0 }
        return pattern.count
      }
    case .replaceRun(let c, let minimum, let content): return Self.replace(t, content) { i in
        var j = i
        while j < t.count && t.scalars[j] == c { j += 1 }
        return j - i >= minimum ? j - i : 0
      }
    case .lowercase:
      var out = AlignedScalars()
      out.reserve(t.count)
      for i in 0..<t.count {
        let s = t.scalars[i]
        if s.value < 128 {
          out.append((65...90).contains(s.value) ? Unicode.Scalar(s.value + 32)! : s, t.lo[i], t.hi[i])
        } else {
          // One scalar at a time, full mappings (İ → i̇), no Final_Sigma: Rust `char::to_lowercase`.
          for l in s.properties.lowercaseMapping.unicodeScalars { out.append(l, t.lo[i], t.hi[i]) }
        }
      }
      return out
    case .unicode(let form): return Self.normalize(t, form)
    case .stripAccents:
      var out = AlignedScalars()
      out.reserve(t.count)
      for i in 0..<t.count {
        if t.scalars[i].value < 0x300 {  // no combining mark below U+0300
          out.copy(t, i)
          continue
        }
        switch t.scalars[i].properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: continue
        default: out.copy(t, i)
        }
      }
      return out
    case .strip(let left, let right):
      var a = 0, b = t.count
      if left { while a < b && t.scalars[a].properties.isWhitespace { a += 1 } }
      if right { while b > a && t.scalars[b - 1].properties.isWhitespace { b -= 1 } }
      var out = AlignedScalars()
      for i in a..<b { out.copy(t, i) }
      return out
    case .prepend(let p):
      guard t.count > 0 else { return t }
      var out = AlignedScalars()
      for s in p { out.append(s, t.lo[0], t.hi[0]) }
      for i in 0..<t.count { out.copy(t, i) }
      return out
    case .precompiled(let map): return map.normalize(t)
    }
  }

  /// Replaces each match (`match(i)` = its length at `i`, 0 for none) by `content`.
  private static func replace(_ t: AlignedScalars, _ content: [Unicode.Scalar], match: (Int) -> Int) -> AlignedScalars {
    var out = AlignedScalars()
    out.reserve(t.count)
    var i = 0
    while i < t.count {
      let n = match(i)
      if n == 0 {
        out.copy(t, i)
        i += 1
      } else {
        // The replacement takes the place of the match's last scalar (the Rust crate inserts it after removing them).
        for s in content { out.append(s, t.lo[i + n - 1], t.hi[i + n - 1]) }
        i += n
      }
    }
    return out
  }

  /// NFC/NFD/NFKC/NFKD one grapheme at a time (composition and reordering never cross a grapheme boundary in
  /// practice). Output scalars keep the alignment of the scalar they came from when the grapheme normalizes scalar
  /// by scalar, else `AlignedScalars.appendReplacing`'s. ASCII is left alone: all four forms keep it.
  private static func normalize(_ t: AlignedScalars, _ form: UnicodeForm) -> AlignedScalars {
    if t.scalars.allSatisfy({ $0.value < 0x80 }) { return t }
    var out = AlignedScalars()
    out.reserve(t.count)
    t.graphemes { r in
      if r.count == 1 && t.scalars[r.lowerBound].value < 0x80 {
        out.copy(t, r.lowerBound)
        return
      }
      func apply(_ s: String) -> [Unicode.Scalar] {
        switch form {
        case .nfc: return Array(s.precomposedStringWithCanonicalMapping.unicodeScalars)
        case .nfd: return Array(s.decomposedStringWithCanonicalMapping.unicodeScalars)
        case .nfkc: return Array(s.precomposedStringWithCompatibilityMapping.unicodeScalars)
        case .nfkd: return Array(s.decomposedStringWithCompatibilityMapping.unicodeScalars)
        }
      }
      let whole = apply(String(String.UnicodeScalarView(t.scalars[r])))
      if r.count > 1 {
        let each = r.map { apply(String(Character(t.scalars[$0]))) }
        if Array(each.joined()) == whole {
          for (i, part) in zip(r, each) { for x in part { out.append(x, t.lo[i], t.hi[i]) } }
          return
        }
      }
      out.appendReplacing(t, r, whole)
    }
    return out
  }
}

/// SentencePiece's precompiled normalization map (`precompiled_charsmap`, e.g. `nmt_nfkc`): a little-endian
/// `UInt32` byte size of a double-array (darts-clone) trie over UTF-8 keys, the trie's `UInt32` units, then the
/// replacement strings, NUL-terminated, that the trie's values index.
///
/// Applied like the Rust tokenizers crate's `Precompiled` normalizer: each grapheme shorter than 6 UTF-8 bytes is
/// looked up whole — the first (shortest) key that is a prefix of it replaces the whole grapheme — and otherwise
/// each of its scalars is looked up alone; unmatched scalars stay.
struct PrecompiledCharsmap: Sendable {
  private let units: [UInt32]
  /// Replacement strings by their byte offset in the string blob.
  private let replacements: [Int: [Unicode.Scalar]]
  private let blob: [UInt8]
  /// The lookup of each one-byte (ASCII) key, precomputed: the hot path.
  private let ascii: [Int32]

  /// - Throws: a one-line description when the map is truncated or its strings are not UTF-8.
  init(bytes: [UInt8]) throws(TokenizerError) {
    guard bytes.count >= 4 else { throw TokenizerError(.badData, "precompiled_charsmap: \(bytes.count) bytes, truncated") }
    let trieSize = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
    guard trieSize % 4 == 0, trieSize <= bytes.count - 4 else {
      throw TokenizerError(.badData, "precompiled_charsmap: trie of \(trieSize) bytes in \(bytes.count - 4), truncated")
    }
    var u = [UInt32](repeating: 0, count: trieSize / 4)
    for k in 0..<u.count {
      let p = 4 + 4 * k
      u[k] = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }
    units = u
    blob = Array(bytes[(4 + trieSize)...])
    guard String(validating: blob, as: UTF8.self) != nil else {
      throw TokenizerError(.badData, "precompiled_charsmap: replacement strings are not UTF-8")
    }
    var r: [Int: [Unicode.Scalar]] = [:]
    var start = 0
    for (i, b) in blob.enumerated() where b == 0 {
      r[start] = Array(String(decoding: blob[start..<i], as: UTF8.self).unicodeScalars)
      start = i + 1
    }
    replacements = r
    var a = [Int32](repeating: -1, count: 128)
    for b in 1..<128 { a[b] = Int32(Self.firstMatch(u, CollectionOfOne(UInt8(b))) ?? -1) }
    ascii = a
  }

  /// Value of the shortest key that is a prefix of `key` (darts-clone common-prefix search, first result).
  /// Out-of-range trie positions count as no match, so a corrupt map cannot crash the lookup.
  private static func firstMatch<C: Collection<UInt8>>(_ units: [UInt32], _ key: C) -> Int? {
    guard let root = units.first else { return nil }
    func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
    var pos = offset(root)
    for c in key {
      if c == 0 { break }
      pos ^= Int(c)
      guard pos < units.count else { return nil }
      let unit = units[pos]
      guard unit & ((1 << 31) | 0xFF) == UInt32(c) else { return nil }
      pos ^= offset(unit)
      if (unit >> 8) & 1 == 1 {
        guard pos < units.count else { return nil }
        return Int(units[pos] & ((1 << 31) - 1))
      }
    }
    return nil
  }

  /// The replacement string at blob offset `v` (up to its NUL).
  private func replacement(_ v: Int) -> [Unicode.Scalar] {
    if let r = replacements[v] { return r }
    guard v >= 0 && v < blob.count else { return [] }
    var e = v
    while e < blob.count && blob[e] != 0 { e += 1 }
    return Array(String(decoding: blob[v..<e], as: UTF8.self).unicodeScalars)
  }

  func normalize(_ t: AlignedScalars) -> AlignedScalars {
    var out = AlignedScalars()
    out.reserve(t.count)
    func put(_ v: Int, _ r: Range<Int>) { out.appendReplacing(t, r, replacement(v)) }
    t.graphemes { r in
      if r.count == 1 && t.scalars[r.lowerBound].value < 128 {
        let v = ascii[Int(t.scalars[r.lowerBound].value)]
        if v >= 0 { put(Int(v), r) } else { out.copy(t, r.lowerBound) }
        return
      }
      var utf8: [UInt8] = []
      for i in r { utf8.append(contentsOf: UTF8.encode(t.scalars[i])!) }
      if utf8.count < 6, let v = Self.firstMatch(units, utf8) {
        put(v, r)
        return
      }
      for i in r {
        if let v = Self.firstMatch(units, UTF8.encode(t.scalars[i])!) { put(v, i..<(i + 1)) } else { out.copy(t, i) }
      }
    }
    return out
  }
}
