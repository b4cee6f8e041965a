import ArgumentParser
import CCPU
import Foundation
import SpiqaCLI
import SpiqaModel
import SpiqaQuant
import SpiqaTasks

/// `spiqa-bench attention`: the P·V of real attention blocks — minilm-squad on a SQuAD question and its context cut
/// to n = 128 / 320 / 512 tokens — by sgemm and by the kernels that skip zeros or work from the codes, each block
/// timed by every kernel in turn inside the forward pass (its P and V are the model's own).
struct AttentionBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attention",
    abstract: "Measure P·V per attention block: sgemm vs the sparse and code kernels, at n = 128/320/512.")

  @Option(help: "QA checkpoint folder (default: models/minilm-squad in the shared data folder).")
  var model: String?

  @Option(help: "SQuAD v1.1 JSON (default: data/squad/dev-v1.1.json in the shared data folder).")
  var data: String?

  @Option(parsing: .upToNextOption, help: "Sequence lengths.")
  var sizes: [Int] = [128, 320, 512]

  @Option(help: "Timed repetitions of each kernel on each block (the best is kept).")
  var repeats = 5

  @Flag(help: "Also run the kernels at the AVX2 level (default: the CPU's best only).")
  var avx2 = false

  func run() throws {
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    guard let (dir, path) = try EvalBench.squadModelAndData(model: model, data: data, area: "attention") else { return }
    let tokenizer = try loadTaskTokenizer(directory: dir)
    let question = try SquadDataset(path: path).questions.first { $0.context.count > 3000 }
    guard let question else { throw ValidationError("no SQuAD context of 3,000 characters in \(path)") }
    let q = tokenizer.ids(question.question), c = tokenizer.ids(question.context)
    let maxSize = sizes.max() ?? 512
    let encoder = try Encoder(directory: dir, maxBatch: 1, maxSeqLen: maxSize)
    encoder.threads = 1
    print("attention: OpenBLAS \(OpenBLASRuntime.coreName) kernel, 1 thread, \(dir), head size \(encoder.config.headSize)")
    let quantizer = try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3)
    let transform = AttentionTransform(quantizer: quantizer)
    guard let codes = quantizer.productCodes else { throw ValidationError("log-pruned has no codes") }
    let pruneBits = Float(1e-3).bitPattern
    let best = spiqa_kernels_best_isa()
    let levels = avx2 && best > Int32(SPIQA_ISA_AVX2) ? [best, Int32(SPIQA_ISA_AVX2)] : [best]
    for isa in levels {
      _ = spiqa_kernels_set_isa(isa)  // the forward pass runs on this thread (1 worker)
      let isaName = ["portable C", "AVX2", "AVX-512"][Int(isa)]
      for n in sizes where n >= q.count + 3 && n <= encoder.config.maxSequenceLength {
        let ids = [tokenizer.clsId] + q + [tokenizer.sepId] + c.prefix(n - q.count - 3) + [tokenizer.sepId]
        let types = Array(repeating: 0, count: q.count + 2) + Array(repeating: 1, count: ids.count - q.count - 2)
        let timer = BlockTimer()
        var hooks = ForwardHooks()
        hooks.paddingStaysZero = true
        hooks.attentionProduct = { p in
          timer.time(p, repeats: repeats, transform: transform, codes: codes, pruneBits: pruneBits)
          return true
        }
        _ = try encoder.forward(EncoderBatch(inputIds: [ids], lengths: [ids.count], tokenTypeIds: [types]), hooks: hooks)
        timer.report(n: ids.count, isa: isaName)
      }
    }
  }
}

/// Best-of-`repeats` times of each kernel on each block, summed over the blocks of one forward pass.
private final class BlockTimer {
  var dense = 0.0, quantizeDense = 0.0, levels = 0.0, codes = 0.0, sparse = 0.0, pruneDense = 0.0
  var quantizeGroups = 0.0, pruneGroups = 0.0, exactGroups = 0.0, groupColumns = 0, pruneGroupColumns = 0
  var nonzeroLevels = 0, nonzeroPruned = 0, entries = 0, blocks = 0
  var worstDifference: Float = 0
  /// One block: the share of entries the codes keep, and the best times of sgemm alone, quantize + sgemm and the
  /// codes kernel (seconds).
  struct BlockTimes {
    var nonzero, dense, quantizeDense, codes: Double
  }
  var perBlock: [BlockTimes] = []
  private var scratch: [Float] = []  // the block as the model made it
  private var reference: [Float] = []

  func time(_ p: BlockProduct, repeats: Int, transform: AttentionTransform, codes productCodes: ProductCodes,
            pruneBits: UInt32)
  {
    let pruning = AttentionTransform(threshold: Double(Float(bitPattern: pruneBits)))
    let n = p.n, t = p.seqLen
    if scratch.count < t * t { scratch = [Float](repeating: 0, count: t * t) }
    /// Best time of `body`, each repetition after an untimed `setup`.
    func best(setup: () -> Void = {}, _ body: () -> Void) -> Double {
      var b = Double.infinity
      for _ in 0..<max(1, repeats) {
        setup()
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        b = min(b, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
      }
      return b
    }
    scratch.withUnsafeMutableBufferPointer { s in
      // The model's block, kept to put back after each in-place transform below (untimed, and leaving the block
      // in cache as the softmax does).
      let saved = s.baseAddress!
      saved.update(from: p.probs, count: t * t)
      let restore = { p.probs.update(from: saved, count: t * t) }
      exactGroups += best { _ = p.rowGroups() }
      let blockDense = best { p.dense() }
      dense += blockDense
      reference = (0..<n).flatMap { r in Array(UnsafeBufferPointer(start: p.out + r * p.outStride, count: p.headSize)) }
      func compare() {
        for r in 0..<n {
          for j in 0..<p.headSize {
            worstDifference = max(worstDifference, abs(p.out[r * p.outStride + j] - reference[r * p.headSize + j]))
          }
        }
      }
      // Today's path for a quantizer: quantize the block in place, then sgemm.
      let blockQuantizeDense = best(setup: restore) {
        transform.transformElementwise(p.probs, rows: n, columns: n, stride: t)
        p.dense()
      }
      quantizeDense += blockQuantizeDense
      reference = (0..<n).flatMap { r in Array(UnsafeBufferPointer(start: p.out + r * p.outStride, count: p.headSize)) }
      var columns = 0
      quantizeGroups += best(setup: restore) {
        transform.transformElementwise(p.probs, rows: n, columns: n, stride: t)
        columns = p.rowGroups()?.columns ?? -1
      }
      groupColumns += columns
      compare()
      restore()
      var k = 0
      levels += best { k = p.levelSums(productCodes) ?? -1 }
      compare()
      let blockCodes = best { k = p.codes(productCodes) ?? -1 }
      codes += blockCodes
      compare()
      nonzeroLevels += k
      perBlock.append(BlockTimes(
        nonzero: Double(k) / Double(n * n), dense: blockDense, quantizeDense: blockQuantizeDense, codes: blockCodes))
      pruneDense += best(setup: restore) {
        pruning.transformElementwise(p.probs, rows: n, columns: n, stride: t)
        p.dense()
      }
      pruneGroups += best(setup: restore) {
        columns = p.rowGroups(pruneBelow: Float(bitPattern: pruneBits))?.columns ?? -1
      }
      pruneGroupColumns += columns
      restore()
      sparse += best { k = p.sparse(pruneBelow: Float(bitPattern: pruneBits)) }
      nonzeroPruned += k
    }
    p.dense()  // what the forward pass continues with
    entries += n * n
    blocks += 1
  }

  func report(n: Int, isa: String) {
    func ms(_ s: Double) -> String { String(format: "%.3f ms", 1e3 * s / Double(max(1, blocks))) }
    print(
      "attention: \(isa), n = \(n), \(blocks) blocks, per block: sgemm \(ms(dense)); log-pruned 3 bits: quantize + sgemm \(ms(quantizeDense)), from the codes \(ms(codes)) (\(String(format: "%.2f", quantizeDense / codes))x, \(String(format: "%.2f", dense / codes))x sgemm alone), by level sums \(ms(levels)) (\(String(format: "%.2f", quantizeDense / levels))x; \(String(format: "%.1f", 100 * Double(nonzeroLevels) / Double(max(1, entries))))% nonzero, max |difference| \(worstDifference)); prune 1e-3: prune + sgemm \(ms(pruneDense)), sparse \(ms(sparse)) (\(String(format: "%.2f", pruneDense / sparse))x, \(String(format: "%.2f", dense / sparse))x sgemm alone; \(String(format: "%.1f", 100 * Double(nonzeroPruned) / Double(max(1, entries))))% nonzero)"
    )
    // Row groups: sgemm's work on the (group of 4 rows, column) pairs with a nonzero entry.
    let groupPairs = Double(max(1, entries)) / 4
    print(
      "attention: \(isa), n = \(n), row groups: quantize + row groups \(ms(quantizeGroups)) (\(String(format: "%.2f", dense / quantizeGroups))x sgemm alone, \(String(format: "%.2f", quantizeDense / quantizeGroups))x quantize + sgemm; \(String(format: "%.1f", 100 * Double(groupColumns) / groupPairs))% of group columns kept); exact P by row groups \(ms(exactGroups)) (\(String(format: "%.2f", dense / exactGroups))x sgemm); pruned on the fly \(ms(pruneGroups)) (\(String(format: "%.2f", dense / pruneGroups))x sgemm alone, \(String(format: "%.2f", pruneDense / pruneGroups))x prune + sgemm; \(String(format: "%.1f", 100 * Double(pruneGroupColumns) / groupPairs))% kept)"
    )
    // Attention blocks are mostly empty or mostly full (docs/runtime.md, "P·V from the codes"): the codes kernel
    // by the share of entries it keeps, against both sgemm paths on the same blocks.
    func perBlockMs(_ rows: ArraySlice<BlockTimes>, _ time: KeyPath<BlockTimes, Double>) -> String {
      String(format: "%.4f", 1e3 * rows.reduce(0) { $0 + $1[keyPath: time] } / Double(max(1, rows.count)))
    }
    let sorted = perBlock.sorted { $0.nonzero < $1.nonzero }
    let shares = [0.2, 0.5].map { limit -> String in
      let rows = sorted.prefix { $0.nonzero < limit }
      return "under \(Int(limit * 100))% nonzero \(rows.count) blocks: codes \(perBlockMs(rows, \.codes)) / quantize + sgemm "
        + "\(perBlockMs(rows, \.quantizeDense)) / sgemm alone \(perBlockMs(rows, \.dense)) ms"
    }
    let beats = perBlock.filter { $0.codes < $0.dense }
    let best = perBlock.reduce(0) { $0 + min($1.codes, $1.quantizeDense) }
    print(
      "attention: \(isa), n = \(n), per block by nonzero share: \(shares.joined(separator: "; ")); the codes beat sgemm alone on \(beats.count) of \(perBlock.count) blocks (\(beats.isEmpty ? "none" : String(format: "the densest of them %.1f%% nonzero", 100 * (beats.map(\.nonzero).max() ?? 0)))); the faster of codes and quantize + sgemm on each block: \(String(format: "%.2f", best / max(dense, 1e-12)))x sgemm alone"
    )
  }
}
