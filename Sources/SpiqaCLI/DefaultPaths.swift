import Foundation
import SpiqaHub

/// Where the tools look for the model and the data when the command line names none, and how a model argument
/// becomes a local folder: the defaults and paths of the command-line layer, one rule each.
///
/// - Project root: the package the running executable was built in, i.e. the folder holding the `.build*` folder
///   above it (`<root>/.build/<triple>/release/spiqa-extract`, `<root>/.build-test/release/spiqa-eval`, also
///   reached through the `.build/release` symlink). Never the current directory.
/// - Shared data folder: `$SPIQA_SHARED` when it is set and not empty, else `<project root>/../shared`; an
///   executable outside a package build folder counts its own folder as the project root.
/// - Model: see `modelCandidates` and `resolveModel`.
public enum DefaultPaths {
  /// The folder `make setup` unpacks all-MiniLM-L6-v2 into, relative to the project root.
  public static let modelFolder = "models/all-MiniLM-L6-v2"

  /// Each task's default data file, relative to the shared data folder (tasks without one need `--data`).
  public static let sharedDataFiles = ["squad": "data/squad/dev-v1.1.json", "sst2": "data/glue/SST-2/dev.tsv"]

  // MARK: - Model

  /// Candidate model folders in the order they are tried: `models/all-MiniLM-L6-v2` under the working directory,
  /// `$SPIQA_MODEL`, then under the project root.
  public static func modelCandidates(
    environment: [String: String] = ProcessInfo.processInfo.environment,
    executable: String? = executablePath(), cwd: String = FileManager.default.currentDirectoryPath
  ) -> [String] {
    var out = [cwd + "/" + modelFolder]
    if let env = environment["SPIQA_MODEL"], !env.isEmpty { out.append(env) }
    if let root = projectRoot(executable: executable) { out.append(root + "/" + modelFolder) }
    return out
  }

  /// The first candidate holding a `config.json`, or nil.
  public static func model(
    environment: [String: String] = ProcessInfo.processInfo.environment, executable: String? = executablePath(),
    cwd: String = FileManager.default.currentDirectoryPath
  ) -> String? {
    modelCandidates(environment: environment, executable: executable, cwd: cwd).first {
      FileManager.default.fileExists(atPath: $0 + "/config.json")
    }
  }

  /// `explicit` when given (a folder with config.json, or a Hub id such as `org/name`, downloaded into the
  /// Hugging Face cache by SpiqaHub's `resolveModelDirectory`), else the first default candidate.
  /// `quiet` silences the download progress.
  /// - Throws: `CLIError.io` (74) naming what was tried, with a hint to run `make setup`; `HubError`s as they are.
  public static func resolveModel(_ explicit: String?, quiet: Bool = false) throws -> String {
    if let spec = explicit {
      let folder = try resolveModelDirectory(spec, quiet: quiet)
      guard FileManager.default.fileExists(atPath: folder + "/config.json") else {
        throw CLIError.io("\(folder): no config.json; expected a Hugging Face checkpoint folder")
      }
      return folder
    }
    if let found = model() { return found }
    throw CLIError.io(
      "no model given and the default \(modelFolder) was not found (tried \(modelCandidates().joined(separator: ", "))); "
        + "HINT: run `make setup` to download it, or pass --model DIR")
  }

  // MARK: - Data

  /// The shared data folder: `$SPIQA_SHARED` when set and not empty, else `<project root>/../shared` (the
  /// folder beside the package the executable was built in; see the type's documentation).
  public static func sharedFolder(
    environment: [String: String] = ProcessInfo.processInfo.environment, executable: String? = executablePath()
  ) -> String {
    if let env = environment["SPIQA_SHARED"], !env.isEmpty { return env }
    let root = projectRoot(executable: executable)
      ?? executable.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "."
    return URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("shared").path
  }

  /// `explicit` when given, else the task's default data file under `shared` (not checked for existence).
  /// - Throws: `CLIError.usage` (64) when neither is there (the text task has no default file).
  public static func dataPath(_ explicit: String?, task: String, shared: @autoclosure () -> String = sharedFolder())
    throws -> String
  {
    try dataPath(
      explicit, task: task, defaultFile: sharedDataFiles[task], hint: "one sequence per line, - for standard input",
      shared: shared())
  }

  /// `explicit` when given, else `defaultFile` (a task's default, relative to the shared data folder).
  /// - Throws: `CLIError.usage` (64) when neither is there; `hint` says what `--data` should hold.
  public static func dataPath(
    _ explicit: String?, task: String, defaultFile: String?, hint: String,
    shared: @autoclosure () -> String = sharedFolder()
  ) throws -> String {
    if let explicit { return explicit }
    guard let file = defaultFile else { throw CLIError.usage("--task \(task) needs --data FILE (\(hint))") }
    return shared() + "/" + file
  }

  /// `dataPath`, checked: the file must exist (`-`, standard input, is taken as given).
  /// - Throws: `CLIError.usage` (64) for a task without a default and no `--data`, `CLIError.io` (74) for a
  ///   missing file.
  public static func resolveData(_ explicit: String?, task: String) throws -> String {
    try resolveData(
      explicit, task: task, defaultFile: sharedDataFiles[task], hint: "one sequence per line, - for standard input")
  }

  /// `dataPath(_:task:defaultFile:hint:)`, checked like `resolveData(_:task:)`.
  public static func resolveData(_ explicit: String?, task: String, defaultFile: String?, hint: String) throws
    -> String
  {
    let path = try dataPath(explicit, task: task, defaultFile: defaultFile, hint: hint)
    guard path == "-" || FileManager.default.fileExists(atPath: path) else {
      if explicit != nil { throw CLIError.io("\(path): no such file") }
      throw CLIError.io(
        "\(path): no such file; HINT: pass --data PATH, or set SPIQA_SHARED to the folder holding data/")
    }
    return path
  }

  // MARK: - Executable

  /// The package around the executable: the parent of the nearest `.build*` folder above it, or nil when the
  /// executable is not inside one.
  public static func projectRoot(executable: String? = executablePath()) -> String? {
    guard let exe = executable else { return nil }
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    while dir.path != "/" && !dir.path.isEmpty {
      if dir.lastPathComponent.hasPrefix(".build") { return dir.deletingLastPathComponent().path }
      dir = dir.deletingLastPathComponent()
    }
    return nil
  }

  /// The running executable, resolved through symlinks (`/proc/self/exe` on Linux).
  public static func executablePath() -> String? {
    if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
    return CommandLine.arguments.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
  }
}
