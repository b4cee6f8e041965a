import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaCore
import SpiqaTokenizers

/// `spiqa-bench tokenizers`: time WordPiece, byte-level BPE and (with `--unigram`) SentencePiece Unigram over all
/// SQuAD v1.1 dev questions and contexts (whole texts, and contexts word by word as SQuAD featurization does).
struct TokenizerBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tokenizers", abstract: "Tokenizer speed on SQuAD v1.1 dev (questions, contexts, per word).")

  @Option(help: "SQuAD v1.1 dev JSON (in the shared data folder).")
  var squad = DefaultPaths.sharedFolder() + "/data/squad/dev-v1.1.json"
  @Option(help: "Folder with a WordPiece vocab.txt (+ tokenizer_config.json).") var bert = "models/all-MiniLM-L6-v2"
  @Option(help: "Folder with vocab.json + merges.txt (in the shared data folder).")
  var roberta = DefaultPaths.sharedFolder() + "/data/roberta-base"
  @Option(help: "Folder with a Unigram (SentencePiece) tokenizer.json, e.g. ALBERT or XLM-R; repeatable.")
  var unigram: [String] = []
  @Option(help: "Timed passes after the first (cold) one; the best is reported.") var repeats = 3

  func run() throws {
    guard repeats >= 1 else { throw ValidationError("--repeats must be ≥ 1") }
    let (contexts, questions) = try loadSquad(squad)
    let words = contexts.map(squadWords)
    print("squad: \(questions.count) questions, \(contexts.count) contexts, \(words.reduce(0) { $0 + $1.count }) context words")
    for (name, dir) in [("wordpiece", bert), ("bpe", roberta)] + unigram.map({ ("unigram", $0) }) {
      let t0 = Date()
      let tok: any Tokenizer
      do { tok = try AutoTokenizer.load(directory: dir) } catch {
        print("\(name): skipped (\(error))")
        continue
      }
      let load = Date().timeIntervalSince(t0)
      print("\(name): load \(ms(load)) (\(dir), vocab \(tok.vocabSize))")
      for (label, work) in [
        ("questions", { questions.reduce(0) { $0 + tok.tokenize($1).count } }),
        ("contexts", { contexts.reduce(0) { $0 + tok.tokenize($1).count } }),
        ("contexts per word", { words.reduce(0) { n, ws in ws.reduce(n) { $0 + tok.tokenize($1).count } } }),
      ] as [(String, () -> Int)] {
        var times: [Double] = []
        var cpu: [Double] = []
        var tokens = 0
        for _ in 0...repeats {
          let s = Date()
          let c = cpuSeconds()
          tokens = work()
          cpu.append(cpuSeconds() - c)
          times.append(Date().timeIntervalSince(s))
        }
        let best = times.dropFirst().min() ?? times[0]
        let bestCPU = cpu.dropFirst().min() ?? cpu[0]
        print(
          "  \(label): \(tokens) tokens, first pass \(ms(times[0])) wall / \(ms(cpu[0])) CPU, "
            + "best \(ms(best)) wall / \(ms(bestCPU)) CPU (\(String(format: "%.2f", Double(tokens) / bestCPU / 1e6)) M tokens/CPU-s)")
      }
    }
  }

  /// CPU time of this thread (the machine may be shared; wall time then overstates the cost).
  private func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }

  private func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }

  private func loadSquad(_ path: String) throws -> ([String], [String]) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("\(path): cannot read SQuAD file")
    }
    guard let root = try? JSONValue(parsing: [UInt8](data)), let articles = root.objectValue?["data"]?.arrayValue
    else { throw ValidationError("\(path): not SQuAD v1.1 JSON") }
    var contexts: [String] = []
    var questions: [String] = []
    for a in articles {
      for p in a.objectValue?["paragraphs"]?.arrayValue ?? [] {
        if let c = p.objectValue?["context"]?.stringValue { contexts.append(c) }
        for q in p.objectValue?["qas"]?.arrayValue ?? [] {
          if let s = q.objectValue?["question"]?.stringValue { questions.append(s) }
        }
      }
    }
    return (contexts, questions)
  }

  /// squad.py's whitespace split (space, \t, \r, \n, U+202F).
  private func squadWords(_ text: String) -> [String] {
    text.unicodeScalars.split { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0.value == 0x202F }
      .map { String(String.UnicodeScalarView($0)) }
  }
}
