import ArgumentParser
import SpiqaIO

/// The output flags shared by the tools that write record streams: `--output`, `--compression`, `--no-gzip`.
public struct OutputOptions: ParsableArguments {
  /// Where to write the stream; absent or `-` means standard output.
  @Option(name: [.short, .long], help: ArgumentHelp("Write the stream to this file (default: standard output).", valueName: "path"),
    completion: .file())
  public var output: String?

  /// The compression spelling (see `StreamCompression.init(parsing:)`).
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "gzip setting: fast (level 1, Huffman-only), none, best, gzip, a level 0-9, or level:strategy with default, filtered, huffman or rle (e.g. 1:rle).",
      valueName: "spec"),
    completion: .list(["fast", "none", "best", "gzip", "1:rle", "6:filtered"]))
  public var compression: String = "fast"

  /// Plain `.npy` records (what repeated `np.save` writes), same as `--compression none`.
  @Flag(help: "Write plain .npy records without gzip (same as --compression none).")
  public var noGzip = false

  /// Default options (argument-parser fills them from the command line).
  public init() {}

  /// Refuses a `--compression` spelling `StreamCompression(parsing:)` does not accept (exit 64).
  public mutating func validate() throws {
    do {
      _ = try StreamCompression(parsing: compression)
    } catch let e as SpiqaIOError {
      throw ValidationError("--compression: \(e.what); expected \(e.expected ?? "a valid setting")")
    }
  }

  /// The compression these flags select.
  public var streamCompression: StreamCompression {
    if noGzip { return .none }
    return (try? StreamCompression(parsing: compression)) ?? .fast
  }

  /// Opens the output now (creating its temporary file), so an unwritable path fails before any work.
  ///
  /// - Throws: `SpiqaIOError` (74) if the output cannot be created.
  public func makeWriter() throws -> RecordWriter {
    try RecordWriter(path: output, compression: streamCompression)
  }
}
