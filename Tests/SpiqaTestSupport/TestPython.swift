import Foundation

/// The `python3` the interoperability tests run (numpy readers, huggingface_hub, the fake Hub server).
public enum TestPython {
  /// `python3` on `PATH`, if any.
  public static let executable: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }()

  /// Whether `python3` can import numpy (CI installs it; elsewhere the tests that need it skip).
  public static let hasNumpy = canImport("numpy")

  /// Whether `python3 -c "import <module>"` succeeds.
  public static func canImport(_ module: String) -> Bool {
    guard let executable, let r = try? runProcess(executable, ["-c", "import \(module)"]) else { return false }
    return r.status == 0
  }
}
