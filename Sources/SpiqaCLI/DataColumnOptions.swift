import ArgumentParser

/// The flags that say where the text is in your own data (`--task classify`, `--task text --pairs`), shared by
/// spiqa-extract and spiqa-eval.
public struct DataColumnOptions: ParsableArguments {
  @Option(help: ArgumentHelp("classify: the column (TSV/CSV header name or JSON key) holding the text.", valueName: "name"))
  public var textColumn: String?

  @Option(help: ArgumentHelp("classify: the column holding the second segment of a pair.", valueName: "name"))
  public var pairColumn: String?

  @Option(help: ArgumentHelp("classify: the column holding the label (id2label name or index; a number for regression).", valueName: "name"))
  public var labelColumn: String?

  @Flag(help: "text: each line is two tab-separated segments (a sentence pair).")
  public var pairs = false

  @Option(
    help: ArgumentHelp(
      "classify: the data's format, tsv, csv or jsonl (default: from the file's extension, .csv/.jsonl/.json/.ndjson, else tsv; standard input and pipes have none).",
      valueName: "format"),
    completion: .list(["tsv", "csv", "jsonl"]))
  public var dataFormat: String?

  public init() {}

  /// Refuses column flags for tasks that do not read them (exit 64).
  public func validate(task: String) throws {
    if task == "classify" {
      guard textColumn != nil else { throw ValidationError("--task classify needs --text-column NAME") }
    } else if textColumn != nil || pairColumn != nil || labelColumn != nil {
      throw ValidationError("--text-column, --pair-column and --label-column apply to --task classify only")
    }
    if pairs && task != "text" { throw ValidationError("--pairs applies to --task text only") }
    if let dataFormat {
      guard task == "classify" else { throw ValidationError("--data-format applies to --task classify only") }
      guard ["tsv", "csv", "jsonl"].contains(dataFormat) else {
        throw ValidationError("--data-format must be tsv, csv or jsonl, got '\(dataFormat)'")
      }
    }
  }
}
