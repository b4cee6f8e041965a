import Foundation

/// The GLUE metrics as scikit-learn and SciPy define them (what the `evaluate` GLUE metric calls).
public enum ClassificationMetrics {
  /// Share of equal pairs (`accuracy_score`); 0 for no pairs.
  public static func accuracy(labels: [Int], predictions: [Int]) -> Double {
    guard !labels.isEmpty else { return 0 }
    return Double(zip(labels, predictions).filter { $0 == $1 }.count) / Double(labels.count)
  }

  /// Binary F1 of class 1 (`f1_score(labels, predictions)`): 2·tp / (2·tp + fp + fn), 0 when that is 0/0
  /// (scikit-learn's `zero_division` default).
  public static func f1(labels: [Int], predictions: [Int]) -> Double {
    var tp = 0, fp = 0, fn = 0
    for (y, p) in zip(labels, predictions) {
      if p == 1 && y == 1 { tp += 1 } else if p == 1 { fp += 1 } else if y == 1 { fn += 1 }
    }
    let d = 2 * tp + fp + fn
    return d == 0 ? 0 : Double(2 * tp) / Double(d)
  }

  /// `matthews_corrcoef`, scikit-learn's multiclass formula over the confusion matrix C (binary included):
  /// (c·s − Σ t_k p_k) / √((s² − Σ p_k²)(s² − Σ t_k²)), 0 when a factor is 0.
  public static func matthews(labels: [Int], predictions: [Int]) -> Double {
    let classes = Array(Set(labels + predictions)).sorted()
    var t = [Double](repeating: 0, count: classes.count)
    var p = t
    var c = 0.0
    for (y, q) in zip(labels, predictions) {
      t[classes.firstIndex(of: y)!] += 1
      p[classes.firstIndex(of: q)!] += 1
      if y == q { c += 1 }
    }
    let s = Double(labels.count)
    let covYP = c * s - zip(t, p).map { $0 * $1 }.reduce(0, +)
    let covPP = s * s - p.map { $0 * $0 }.reduce(0, +)
    let covYY = s * s - t.map { $0 * $0 }.reduce(0, +)
    if covPP * covYY == 0 { return 0 }
    return covYP / (covYY * covPP).squareRoot()
  }

  /// `scipy.stats.pearsonr(x, y)[0]`: centred, each side scaled to unit length, dot product, clipped to [−1, 1];
  /// NaN when a side is constant (SciPy warns and returns NaN).
  public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
    guard x.count == y.count, x.count >= 2 else { return .nan }
    let mx = x.reduce(0, +) / Double(x.count)
    let my = y.reduce(0, +) / Double(y.count)
    let xm = x.map { $0 - mx }
    let ym = y.map { $0 - my }
    let nx = xm.map { $0 * $0 }.reduce(0, +).squareRoot()
    let ny = ym.map { $0 * $0 }.reduce(0, +).squareRoot()
    guard nx > 0, ny > 0 else { return .nan }
    let r = zip(xm, ym).map { ($0 / nx) * ($1 / ny) }.reduce(0, +)
    return max(-1, min(1, r))
  }

  /// `scipy.stats.spearmanr(x, y)[0]`: Pearson's r of the ranks (ties get their average rank, `rankdata`).
  public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
    pearson(ranks(x), ranks(y))
  }

  /// `scipy.stats.rankdata(v, method="average")`: 1-based ranks, tied values share the mean of their ranks.
  public static func ranks(_ v: [Double]) -> [Double] {
    let order = v.indices.sorted { v[$0] < v[$1] || (v[$0] == v[$1] && $0 < $1) }
    var r = [Double](repeating: 0, count: v.count)
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
      let mean = Double(i + j) / 2 + 1
      for k in i...j { r[order[k]] = mean }
      i = j + 1
    }
    return r
  }
}
