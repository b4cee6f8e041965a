/// Splits `scalars` into the non-empty runs between separator scalars (no empty words, like Python's
/// `str.split()`); the separator rule is the caller's (HF's `_is_whitespace`, Python's `str.isspace`).
func splitWords<S: Sequence<Unicode.Scalar>>(_ scalars: S, isSeparator: (Unicode.Scalar) -> Bool) -> [String] {
  var words: [String] = []
  var current = String.UnicodeScalarView()
  for s in scalars {
    if isSeparator(s) {
      if !current.isEmpty {
        words.append(String(current))
        current = String.UnicodeScalarView()
      }
    } else {
      current.append(s)
    }
  }
  if !current.isEmpty { words.append(String(current)) }
  return words
}
