import Foundation

/// Where the tests find the package, the shared data folder, the default model and the built tools.
public enum TestPaths {
  /// The package root (two levels above this file's folder, Tests/SpiqaTestSupport).
  public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The shared folder (fine-tuned checkpoints, data sets): `$SPIQA_SHARED` when set and not empty, else `shared`
  /// beside the package root; nil when it does not exist.
  public static let shared: String? = {
    let env = ProcessInfo.processInfo.environment["SPIQA_SHARED"] ?? ""
    let path = env.isEmpty ? packageRoot.deletingLastPathComponent().appendingPathComponent("shared").path : env
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }()

  /// A file or folder under the shared folder, if it exists.
  public static func shared(_ relative: String) -> String? {
    guard let shared else { return nil }
    let path = shared + "/" + relative
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }

  /// all-MiniLM-L6-v2: `$SPIQA_MODEL`, else models/all-MiniLM-L6-v2 under the package root; nil without its
  /// model.safetensors.
  public static let miniLM: String? = {
    let env = ProcessInfo.processInfo.environment["SPIQA_MODEL"] ?? ""
    let path = env.isEmpty ? packageRoot.appendingPathComponent("models/all-MiniLM-L6-v2").path : env
    return FileManager.default.fileExists(atPath: path + "/model.safetensors") ? path : nil
  }()

  /// A built command-line tool (`spiqa-extract`, ...): SwiftPM puts it beside the test bundle, in the folder of the
  /// test runner or one of its parents.
  public static func tool(_ name: String) -> String? {
    var dirs = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent()
    for _ in 0..<4 {
      dirs.append(dir)
      dir = dir.deletingLastPathComponent()
    }
    return dirs.map { $0.appendingPathComponent(name).path }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }
}
