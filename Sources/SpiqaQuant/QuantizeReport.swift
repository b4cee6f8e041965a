import SpiqaCore
import SpiqaIO


/// The report of a `QuantizeStream` run as one summary line (spiqa-quantize's standard error) and as JSON
/// (`--report`).
public struct QuantizeReport {
  public let report: QuantReport
  public let settings: QuantizeSettings

  public init(report: QuantReport, settings: QuantizeSettings) {
    self.report = report
    self.settings = settings
  }

  /// The JSON object: counts, sparsity, errors, the transform (`TransformMetadata.quantizeReport`) and, with `js`,
  /// the Jensen–Shannon distance.
  public var json: JSONObject {
    var o: JSONObject = [
      "tensors": .int(report.tensors),
      "values": .int(report.values),
      "sparsity_before": .double(report.sparsityBefore),
      "sparsity_after": .double(report.sparsityAfter),
      "mean_abs_error": .double(report.meanAbsError),
      "max_abs_error": .double(report.maxAbsError),
      "distinct_values": report.distinct.map { .int($0.count) } ?? .null,
      "output_dtype": .string(settings.output.rawValue),
    ]
    TransformMetadata.quantizeReport.write(settings.transform, into: &o)
    if !settings.provenance.isEmpty { o["provenance"] = .object(settings.provenance) }
    if settings.js {
      o["js_distance_mean"] = report.meanJS.map { .double($0) } ?? .null
      o["js_rows"] = .int(report.jsRows)
      o["js_rows_skipped"] = .int(report.jsSkipped)
      o["js_definition"] = "mean over rows of scipy jensenshannon (natural log) between 100-bin log histograms (edges 10**linspace(-10,0,101)) of row+1e-10, original vs output"
    }
    return o
  }

  /// One summary line for standard error.
  public var line: String {
    func f(_ x: Double) -> String {
      let r = (x * 1e6).rounded() / 1e6
      return String(r)
    }
    var s = "spiqa-quantize: \(report.tensors) tensors, \(report.values) values; sparsity \(f(report.sparsityBefore)) -> \(f(report.sparsityAfter))"
    s += "; distinct values \(report.distinct.map { String($0.count) } ?? "n/a")"
    s += "; mean |err| \(f(report.meanAbsError)), max |err| \(f(report.maxAbsError))"
    if settings.js { s += "; JS distance (mean over \(report.jsRows) rows) \(report.meanJS.map(f) ?? "n/a")" }
    return s
  }

  /// Writes the JSON report into `file` (an `AtomicFile` opened before the run, so that a report path that cannot
  /// be written fails before the stream is; the caller commits it after the stream).
  public func writeJSON(to file: AtomicFile) throws {
    try file.write(Array((JSONValue.object(json).jsonText + "\n").utf8))
  }
}
