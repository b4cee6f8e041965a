import Foundation
import SpiqaCore

/// Merges the per-example files of a sharded evaluation (`spiqa-eval --shard I/N --per-example F`) into the result
/// line of the unsharded run: the same keys and values (every task's metrics, features, sparsity), summed seconds.
/// Shards that do not belong together are refused (docs/scaling.md).
public enum EvalMerge {
  /// The merged run: its result line and its per-example lines (the unsharded `--per-example` file's lines).
  public struct Merged: Sendable {
    public var result: JSONObject
    public var perExampleLines: [String]
  }

  /// Reads and merges `paths` (any order).
  /// - Throws: `TasksError.io` for an unreadable file, `TasksError.badData` for files that are not the complete
  ///   shards of one run (different run or settings, missing or duplicate shards, incomplete files).
  public static func merge(paths: [String]) throws -> Merged {
    try merge(
      files: paths.map { path in
        (path, [UInt8](try readData(path)))  // `-` and pipes too, within SPIQA_MAX_DATA_BYTES
      })
  }

  /// Merges files given as (name, bytes).
  public static func merge(files: [(name: String, bytes: [UInt8])]) throws -> Merged {
    guard !files.isEmpty else { throw TasksError.usage("no shard files to merge") }
    var shards: [(name: String, line: EvalShardLine, lines: [String])] = []
    for (name, bytes) in files {
      var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        .map(String.init)
      if lines.last == "" { lines.removeLast() }
      guard let last = lines.last, case .object(let o)? = try? JSONValue(parsing: Array(last.utf8)),
        o[EvalShardLine.key] != nil
      else {
        throw TasksError.badData(
          "\(name): no shard line at the end; expected the per-example file of a finished sharded evaluation")
      }
      let line = try EvalShardLine(json: o, source: name)
      lines.removeLast()
      guard lines.count == line.n else {
        throw TasksError.badData("\(name): \(lines.count) per-example lines, but its shard line says \(line.n)")
      }
      shards.append((name, line, lines))
    }
    let first = shards[0]
    for s in shards.dropFirst() {
      if let why = difference(first.line, s.line) {
        throw TasksError.badData(
          "\(s.name): shard \(s.line.shard) is not of the same run as \(first.name) (shard \(first.line.shard)): \(why)")
      }
    }
    if let why = replayedDisagreement(shards.map { ($0.name, $0.line) }) {
      throw TasksError.badData("shards of different replays: \(why)")
    }
    let count = first.line.shard.count
    var byIndex = [(name: String, line: EvalShardLine, lines: [String])?](repeating: nil, count: count)
    for s in shards {
      if let other = byIndex[s.line.shard.index] {
        throw TasksError.badData("shard \(s.line.shard) given twice: \(other.name) and \(s.name)")
      }
      byIndex[s.line.shard.index] = s
    }
    let missing = byIndex.indices.filter { byIndex[$0] == nil }
    guard missing.isEmpty else {
      throw TasksError.badData(
        "shard\(missing.count > 1 ? "s" : "") \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) missing "
          + "(\(shards.count) of \(count) given)")
    }
    let ordered = byIndex.compactMap { $0 }
    var next = 0
    for s in ordered {
      guard s.line.items.lowerBound == next else {
        throw TasksError.badData(
          "\(s.name): shard \(s.line.shard) covers items \(s.line.items) but the shards before it end at \(next)")
      }
      next = s.line.items.upperBound
    }
    guard next == first.line.selected else {
      throw TasksError.badData("the shards cover \(next) of the run's \(first.line.selected) examples")
    }
    return try result(ordered.map { ($0.name, $0.line, $0.lines) })
  }

  /// The first key (or setting) in which two shard lines' runs differ, nil when they belong together.
  static func difference(_ a: EvalShardLine, _ b: EvalShardLine) -> String? {
    if a.shard.count != b.shard.count { return "it is one of \(b.shard.count) shards, not \(a.shard.count)" }
    func show(_ v: JSONValue?) -> String { v.map { $0.jsonText } ?? "absent" }
    for key in Set(a.run.keys).union(b.run.keys).sorted() where key != "provenance" && a.run[key] != b.run[key] {
      // Each node may replay its own part of a sharded extraction: the paths differ, what they hold (`replayed`:
      // transform and weights) may not.
      if key == "replay", a.run[key]?.stringValue != nil, b.run[key]?.stringValue != nil { continue }
      if key == "replayed" { continue }  // across all shards at once: replayedDisagreement
      return "\(key) \(show(b.run[key])) vs \(show(a.run[key]))"
    }
    // Provenance: the same checkpoint and data by content; the builds and paths may differ (a cluster's nodes).
    let pa = a.run["provenance"]?.objectValue ?? [:]
    let pb = b.run["provenance"]?.objectValue ?? [:]
    for key in ["model_id", "weights_sha256", "data_sha256"] where pa[key] != pb[key] {
      return "provenance \(key) \(show(pb[key])) vs \(show(pa[key]))"
    }
    if a.selected != b.selected || a.digest != b.digest {
      return "its selection has \(b.selected) examples (digest \(b.digest)), not \(a.selected) (digest \(a.digest))"
    }
    return nil
  }

  /// Why the shards' `replayed` keys do not describe the same attention, nil when they do. Only the first part of a
  /// sharded extraction has the stream header that names the weights (`model`), and a part without records says
  /// nothing (null: its shard evaluated nothing, or the replay would have failed). So every `replayed` object must
  /// be equal leaving `model` out, every `model` given must be equal, and null is allowed where nothing was
  /// evaluated — checked across all shards, so that the order of the files does not matter.
  static func replayedDisagreement(_ shards: [(name: String, line: EvalShardLine)]) -> String? {
    let objects = shards.compactMap { s in s.line.run["replayed"]?.objectValue.map { (name: s.name, keys: $0) } }
    guard let first = objects.first else { return nil }  // no shard replayed anything
    func show(_ o: JSONObject) -> String { JSONValue.object(o).jsonText }
    if let silent = shards.first(where: { ($0.line.run["replayed"] ?? .null).isNull && $0.line.n > 0 }) {
      return "\(silent.name): replayed null though it evaluated \(silent.line.n) examples, while \(first.name) replayed "
        + show(first.keys)
    }
    var firstKeys = first.keys
    firstKeys["model"] = nil
    for o in objects.dropFirst() {
      var keys = o.keys
      keys["model"] = nil
      if keys != firstKeys { return "\(o.name): replayed \(show(keys)) vs \(show(firstKeys)) in \(first.name)" }
    }
    let models = objects.compactMap { o in o.keys["model"].map { (name: o.name, model: $0) } }
    if let m = models.first, let other = models.first(where: { $0.model != m.model }) {
      return "\(other.name): replayed.model \(other.model.jsonText) vs \(m.model.jsonText) in \(m.name)"
    }
    return nil
  }

  /// The `replayed` key of the merged line: the fullest of the shards' (one that names the weights, else any).
  static func fullestReplayed(_ shards: [EvalShardLine]) -> JSONValue? {
    let known = shards.compactMap { $0.run["replayed"] }.filter { !$0.isNull }
    return known.first { $0.objectValue?["model"] != nil } ?? known.first ?? shards.first?.run["replayed"]
  }

  /// The unsharded result line from shards in order (`provenance` is the first shard's).
  static func result(_ shards: [(name: String, line: EvalShardLine, lines: [String])]) throws -> Merged {
    var out = shards[0].line.run
    out["settings"] = nil
    out["replayed"] = fullestReplayed(shards.map(\.line))
    var sparsity = shards[0].line.sparsity
    for s in shards.dropFirst() { try sparsity.merge(s.line.sparsity, from: s.name) }
    let seconds = shards.reduce(0.0) { $0 + $1.line.seconds }
    let lines = shards.flatMap(\.lines)
    var rows: [JSONObject] = []
    for s in shards {
      var digest = LinesDigest()
      for (i, text) in s.lines.enumerated() {
        guard case .object(let o)? = try? JSONValue(parsing: Array(text.utf8)) else {
          throw TasksError.badData("\(s.name): line \(i + 1) is not a JSON object")
        }
        rows.append(o)
        digest.add(text)
      }
      // The lines must be the ones the shard wrote, in order (shard lines of older builds have no digest).
      if let want = s.line.linesDigest, digest.hex != want {
        throw TasksError.badData(
          "\(s.name): the per-example lines are not the ones its shard line lists (digest \(digest.hex), expected "
            + "\(want)): a line edited, dropped or moved")
      }
    }
    let paths = shards.map { $0.line.run["replay"] ?? .null }
    if Set(paths.map(\.jsonText)).count > 1 { out["replay"] = .array(paths) }
    // The task's own scorer, fed the lines in run order: the metrics come out as the unsharded run computes them.
    let task = try TaskRegistry.task(named: out["task"]?.stringValue ?? "")
    var settings = TaskSettings()
    let recorded = shards[0].line.run["settings"]?.objectValue ?? [:]
    if let t = recorded["null_threshold"]?.doubleValue { settings.nullScoreThreshold = t }
    if let m = recorded["max_answer_len"]?.intValue { settings.maxAnswerLen = m }
    let scorer = try task.mergingScorer(settings: settings)
    for row in rows { try scorer.absorb(row) }
    for (k, v) in scorer.result() { out[k] = v }
    let n = shards.reduce(0) { $0 + $1.line.n }
    out["sparsity"] = .double(sparsity.overall)
    out["seconds"] = .double(EvalRunner.rounded(seconds))
    out["\(task.unit)_per_second"] = .double(seconds > 0 ? EvalRunner.rounded(Double(n) / seconds) : 0)
    return Merged(result: out, perExampleLines: lines)
  }
}
