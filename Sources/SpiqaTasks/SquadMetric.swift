import Foundation

/// The official SQuAD v1.1 metrics (`evaluate-v1.1.py`, `transformers.data.metrics.squad_metrics`):
/// normalisation, exact match, token F1, and the max over gold answers.
public enum SquadMetric {
  /// Python's `string.punctuation`.
  static let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

  /// `normalize_answer`: lower case, drop `string.punctuation`, drop the whole words a/an/the
  /// (`\b(a|an|the)\b` with Python's Unicode word boundaries), collapse whitespace (`str.split()`).
  public static func normalize(_ s: String) -> String {
    let lowered = s.lowercased()
    var kept = String.UnicodeScalarView()
    for scalar in lowered.unicodeScalars where !punctuation.contains(scalar) { kept.append(scalar) }
    let noArticles = removeArticles(Array(kept))
    return pythonSplit(noArticles).joined(separator: " ")
  }

  /// Python `\w` for `str` patterns: alphanumerics (`str.isalnum`) and the underscore.
  public static func isWordChar(_ s: Unicode.Scalar) -> Bool {
    if s == "_" { return true }
    let p = s.properties
    switch p.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
      .decimalNumber, .letterNumber, .otherNumber:
      return true
    default:
      return p.numericType != nil
    }
  }

  /// `re.sub(r"\b(a|an|the)\b", " ", text)`: an article is replaced by one space when both of its ends are word
  /// boundaries (the characters around it are not word characters).
  static func removeArticles(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
    let articles: [[Unicode.Scalar]] = [["a"], ["a", "n"], ["t", "h", "e"]]
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(scalars.count)
    var i = 0
    while i < scalars.count {
      let atBoundary = i == 0 || !isWordChar(scalars[i - 1])
      var matched = 0
      if atBoundary {
        // Alternatives are tried left to right (a, an, the); the first one that ends on a boundary wins.
        for word in articles where i + word.count <= scalars.count && Array(scalars[i..<i + word.count]) == word {
          let end = i + word.count
          if end == scalars.count || !isWordChar(scalars[end]) {
            matched = word.count
            break
          }
        }
      }
      if matched > 0 {
        out.append(" ")
        i += matched
      } else {
        out.append(scalars[i])
        i += 1
      }
    }
    return out
  }

  /// Python `str.isspace()` (what `str.split()` splits on).
  public static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x09...0x0D, 0x1C...0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
      return true
    default:
      return false
    }
  }

  /// Python's `str.split()` without arguments.
  public static func pythonSplit(_ scalars: [Unicode.Scalar]) -> [String] {
    splitWords(scalars, isSeparator: isPythonSpace)
  }

  /// `compute_exact`: 1 when the normalised strings are equal.
  public static func exact(gold: String, prediction: String) -> Double {
    normalize(gold) == normalize(prediction) ? 1 : 0
  }

  /// `compute_f1`: harmonic mean of token precision and recall over the multiset intersection; when either side has
  /// no tokens, 1 if both have none, else 0.
  public static func f1(gold: String, prediction: String) -> Double {
    let goldTokens = gold.isEmpty ? [] : normalize(gold).split(separator: " ").map(String.init)
    let predTokens = prediction.isEmpty ? [] : normalize(prediction).split(separator: " ").map(String.init)
    if goldTokens.isEmpty || predTokens.isEmpty { return goldTokens == predTokens ? 1 : 0 }
    var counts: [String: Int] = [:]
    for t in goldTokens { counts[t, default: 0] += 1 }
    var same = 0
    for t in predTokens {
      if let c = counts[t], c > 0 {
        same += 1
        counts[t] = c - 1
      }
    }
    if same == 0 { return 0 }
    let precision = Double(same) / Double(predTokens.count)
    let recall = Double(same) / Double(goldTokens.count)
    return (2 * precision * recall) / (precision + recall)
  }

  /// EM and F1 of one prediction: each the max over the gold answers (0 when there are none).
  public static func score(prediction: String, golds: [String]) -> (em: Double, f1: Double) {
    var em = 0.0
    var f1 = 0.0
    for g in golds {
      em = max(em, exact(gold: g, prediction: prediction))
      f1 = max(f1, self.f1(gold: g, prediction: prediction))
    }
    return (em, f1)
  }
}
