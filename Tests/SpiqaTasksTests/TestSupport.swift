import Foundation
import SpiqaCLI

/// Paths and resources shared by the SpiqaTasks tests.
enum TestSupport {
  /// A committed fixture file (Tests/SpiqaTasksTests/Fixtures/<name>).
  static func fixture(_ name: String) throws -> Data {
    guard let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
      throw FixtureError(message: "Fixtures folder missing from the test bundle")
    }
    return try Data(contentsOf: dir.appendingPathComponent(name))
  }

  /// Package root (two levels above this file's folder).
  static var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// The shared folder (`DefaultPaths.sharedFolder`: $SPIQA_SHARED, else ../shared beside the package), when it exists.
  static var shared: String? {
    let path = DefaultPaths.sharedFolder()
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }

  static func sharedFile(_ relative: String) -> String? {
    guard let s = shared else { return nil }
    let p = s + "/" + relative
    return FileManager.default.fileExists(atPath: p) ? p : nil
  }
}

struct FixtureError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}
