import Foundation
import SpiqaModel

/// Where `spiqa-extract` looks for the model and the data when no path is given.
public enum ExtractionDefaults {
  /// The folder `make setup` unpacks all-MiniLM-L6-v2 into, relative to the package root.
  public static let modelFolder = "models/all-MiniLM-L6-v2"

  /// Candidate model folders in the order they are tried: `models/all-MiniLM-L6-v2` under the working directory,
  /// `$SPIQA_MODEL`, then the package around the executable (`<pkg>/.build/<triple>/<config>/spiqa-extract` →
  /// `<pkg>/models/all-MiniLM-L6-v2`, also through the `.build/<config>` symlink).
  public static func modelCandidates(
    environment: [String: String] = ProcessInfo.processInfo.environment,
    executable: String? = executablePath(), cwd: String = FileManager.default.currentDirectoryPath
  ) -> [String] {
    var out = [cwd + "/" + modelFolder]
    if let env = environment["SPIQA_MODEL"], !env.isEmpty { out.append(env) }
    if let exe = executable {
      var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
      for _ in 0..<4 {
        dir = dir.deletingLastPathComponent()
        if dir.lastPathComponent == ".build" {
          out.append(dir.deletingLastPathComponent().appendingPathComponent(modelFolder).path)
          break
        }
      }
    }
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
  /// Hugging Face cache), else the first default candidate.
  /// - Throws: `TasksError.io` (74) naming what was tried, with a hint to run `make setup`; Hub errors as they are.
  public static func resolveModel(_ explicit: String?) throws -> String {
    let fm = FileManager.default
    if let spec = explicit {
      let explicit = try modelDirectory(spec)
      guard fm.fileExists(atPath: explicit + "/config.json") else {
        throw TasksError.io("\(explicit): no config.json; expected a Hugging Face checkpoint folder")
      }
      return explicit
    }
    if let found = model() { return found }
    throw TasksError.io(
      "no model given and the default \(modelFolder) was not found (tried \(modelCandidates().joined(separator: ", "))); "
        + "HINT: run `make setup` to download it, or pass --model DIR")
  }

  /// A local folder for a `--model` value: an existing path as is; a missing path (`/…`, `./…`, `~…`) is an
  /// I/O error (74); anything else is taken as a Hub id (`org/name[@revision]`) and downloaded into the
  /// Hugging Face cache (`HF_HUB_OFFLINE=1`: cache only).
  public static func modelDirectory(_ spec: String) throws -> String {
    if FileManager.default.fileExists(atPath: spec) { return spec }
    if spec.hasPrefix("/") || spec.hasPrefix(".") || spec.hasPrefix("~") || !spec.contains("/") {
      throw TasksError.io("\(spec): no such model folder; expected a Hugging Face checkpoint folder or a Hub id (org/name)")
    }
    return try resolveModelDirectory(spec)
  }

  /// `explicit` or the task's default data file, which must exist.
  /// - Throws: `TasksError.usage` for text without `--data`, `TasksError.io` (74) for a missing file.
  public static func resolveData(_ explicit: String?, task: ExtractionTask) throws -> String {
    if let explicit {
      guard explicit == "-" || FileManager.default.fileExists(atPath: explicit) else {
        throw TasksError.io("\(explicit): no such file")
      }
      return explicit
    }
    let sharedDir = shared()
    guard let path = data(for: task, shared: sharedDir) else {
      throw TasksError.usage("--task text needs --data FILE (one sequence per line, - for standard input)")
    }
    guard FileManager.default.fileExists(atPath: path) else {
      throw TasksError.io(
        "\(path): no such file; HINT: pass --data PATH, or set SPIQA_SHARED to the folder holding data/")
    }
    return path
  }

  /// The shared data folder: `$SPIQA_SHARED`, else `../shared` relative to the working directory.
  public static func shared(
    environment: [String: String] = ProcessInfo.processInfo.environment,
    cwd: String = FileManager.default.currentDirectoryPath
  ) -> String {
    if let env = environment["SPIQA_SHARED"], !env.isEmpty { return env }
    return URL(fileURLWithPath: cwd).deletingLastPathComponent().appendingPathComponent("shared").path
  }

  /// The default data file of a task under the shared folder (`nil` for plain text, which needs `--data`).
  public static func data(for task: ExtractionTask, shared: String) -> String? {
    switch task {
    case .squad: return shared + "/data/squad/dev-v1.1.json"
    case .sst2: return shared + "/data/glue/SST-2/dev.tsv"
    case .text: return nil
    }
  }

  /// The running executable, resolved through symlinks (`/proc/self/exe` on Linux).
  public static func executablePath() -> String? {
    if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
    return CommandLine.arguments.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
  }
}
