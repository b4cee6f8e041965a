import Testing

@testable import SpiqaTokenizers

/// `TextNormalization.lowercase(_:finalSigma: true)` is CPython 3.11's `str.lower()` (Unicode 14.0): full
/// mappings, the Final_Sigma context rule, and no case for code points assigned after 14.0. Expected values were
/// printed by CPython 3.11.7 (unicodedata 14.0.0).
@Suite("PythonLowercase")
struct PythonLowercaseTests {
  static func lower(_ text: String) -> [UInt32] {
    var w = TrackedScalars()
    for (i, s) in text.unicodeScalars.enumerated() { w.append(s, from: i) }
    return TextNormalization.lowercase(w, finalSigma: true).scalars.map(\.value)
  }

  @Test("str.lower() of Greek, Turkish, titlecase and Unicode 15/16 code points",
        arguments: [
          ("ΟΔΟΣ", [0x3BF, 0x3B4, 0x3BF, 0x3C2]),
          ("ΟΔΟΣ.", [0x3BF, 0x3B4, 0x3BF, 0x3C2, 0x2E]),
          ("Σ", [0x3C3]),
          ("ΑΣ\u{301}Α", [0x3B1, 0x3C3, 0x301, 0x3B1]),
          ("ΑΣ\u{301}", [0x3B1, 0x3C2, 0x301]),
          ("İI", [0x69, 0x307, 0x69]),
          ("\u{A7DA}\u{A7CB}", [0xA7DA, 0xA7CB]),          // Unicode 16 capitals: no case in 14.0
          ("A\u{A7DC}Σ", [0x61, 0xA7DC, 0x3C3]),            // an unassigned letter is not cased: σ
          ("ΑΣ\u{10D50}", [0x3B1, 0x3C2, 0x10D50]),         // …and does not block the final ς
          ("ǅΣ", [0x1C6, 0x3C2]),
          ("\u{AD}ΑΣ\u{AD}", [0xAD, 0x3B1, 0x3C2, 0xAD]),
        ] as [(String, [UInt32])])
  func pythonLower(text: String, expected: [UInt32]) {
    #expect(Self.lower(text) == expected, "\(text.debugDescription)")
  }
}
