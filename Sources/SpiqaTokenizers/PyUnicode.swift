import Foundation

// Character classes of the Python reference tokenizers, computed on Unicode scalars.
//
// Python 3.11's `unicodedata` is Unicode 14.0; Swift 6.3's scalar properties are Unicode 16.0.
// `PyUnicode.category` therefore reports code points assigned after 14.0 as unassigned (Cn), which
// is what Python 3.11 sees. (Code points whose category CHANGED between versions are not emulated.)

enum PyUnicode {
  /// Unicode version of the reference Python's `unicodedata` (CPython 3.11 → 14.0).
  static let pinnedVersion = (major: 14, minor: 0)

  /// General category as Python 3.11's `unicodedata.category` sees it.
  static func category(_ s: Unicode.Scalar) -> Unicode.GeneralCategory {
    let p = s.properties
    guard let age = p.age else { return .unassigned }
    if age.major > pinnedVersion.major || (age.major == pinnedVersion.major && age.minor > pinnedVersion.minor) {
      return .unassigned
    }
    return p.generalCategory
  }

  /// Assigned in Python 3.11's Unicode (14.0); later code points are unassigned there and have no case
  /// mapping, no Cased and no Case_Ignorable property.
  static func isKnown(_ s: Unicode.Scalar) -> Bool {
    guard let age = s.properties.age else { return false }
    return age.major < pinnedVersion.major || (age.major == pinnedVersion.major && age.minor <= pinnedVersion.minor)
  }

  /// Python 3.11's Cased and Case_Ignorable (what `str.lower()`'s Final_Sigma rule reads).
  static func isCased(_ s: Unicode.Scalar) -> Bool { isKnown(s) && s.properties.isCased }
  static func isCaseIgnorable(_ s: Unicode.Scalar) -> Bool { isKnown(s) && s.properties.isCaseIgnorable }

  static func isOther(_ c: Unicode.GeneralCategory) -> Bool {
    switch c {
    case .control, .format, .surrogate, .privateUse, .unassigned: return true
    default: return false
    }
  }

  static func isPunctuationCategory(_ c: Unicode.GeneralCategory) -> Bool {
    switch c {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  /// HF `_is_whitespace`: space, \t, \n, \r or category Zs.
  @inline(__always)
  static func isBertWhitespace(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    if v < 128 { return v == 32 || v == 9 || v == 10 || v == 13 }
    return category(s) == .spaceSeparator
  }

  /// HF `_is_control`: category C* except \t \n \r (Google's original uses only Cc/Cf).
  @inline(__always)
  static func isBertControl(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    if v < 128 { return (v < 32 && v != 9 && v != 10 && v != 13) || v == 127 }
    return isOther(category(s))
  }

  /// HF `_is_punctuation`: ASCII 33–47, 58–64, 91–96, 123–126, or category P*.
  @inline(__always)
  static func isBertPunctuation(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
      return true
    }
    if v < 128 { return false }
    return isPunctuationCategory(category(s))
  }

  /// Python `str.split()` separators that survive BERT's text cleaning besides the BERT
  /// whitespace: U+2028 (Zl) and U+2029 (Zp).
  @inline(__always)
  static func isBertSplitter(_ s: Unicode.Scalar) -> Bool {
    isBertWhitespace(s) || s.value == 0x2028 || s.value == 0x2029
  }

  /// BERT's "Chinese character" blocks (CJK Unified Ideographs and extensions, compatibility).
  @inline(__always)
  static func isCJK(_ v: UInt32) -> Bool {
    (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
      || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
      || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
  }

  /// Python `str.isspace()` (bidi class WS/B/S or category Zs).
  static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
      return true
    default: return false
    }
  }

}

/// True when Python's `text.strip()` leaves nothing: every scalar is Python whitespace (`str.isspace()`, which
/// counts the separators U+001C–U+001F that Unicode's White_Space property does not).
public func isPythonBlank(_ text: some StringProtocol) -> Bool {
  text.unicodeScalars.allSatisfy(PyUnicode.isPythonSpace)
}

/// Per-scalar tables that are costly to compute (lowercase mapping, NFD), memoized.
/// Thread-safe through a lock; only non-ASCII scalars reach it.
final class ScalarMemo: @unchecked Sendable {
  private let lock = NSLock()
  private var lower: [UInt32: [Unicode.Scalar]] = [:]
  private var nfd: [UInt32: [Unicode.Scalar]] = [:]

  static let shared = ScalarMemo()

  /// Full lowercase mapping of one scalar (context-free; Python's per-character `lower()`), at Python 3.11's
  /// Unicode 14.0: a code point assigned later maps to itself.
  func lowercase(_ s: Unicode.Scalar) -> [Unicode.Scalar] {
    lock.lock()
    if let r = lower[s.value] { lock.unlock(); return r }
    lock.unlock()
    let r = PyUnicode.isKnown(s) ? Array(s.properties.lowercaseMapping.unicodeScalars) : [s]
    lock.lock(); lower[s.value] = r; lock.unlock()
    return r
  }

  /// Canonical decomposition (NFD) of one scalar, not yet reordered with its neighbours.
  func decomposition(_ s: Unicode.Scalar) -> [Unicode.Scalar] {
    lock.lock()
    if let r = nfd[s.value] { lock.unlock(); return r }
    lock.unlock()
    let r = Array(String(Character(s)).decomposedStringWithCanonicalMapping.unicodeScalars)
    lock.lock(); nfd[s.value] = r; lock.unlock()
    return r
  }
}
