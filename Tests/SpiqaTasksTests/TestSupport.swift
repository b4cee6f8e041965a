import Foundation
import SpiqaTestSupport

/// Paths and resources shared by the SpiqaTasks tests.
enum TestSupport {
  /// A committed fixture file (Tests/SpiqaTasksTests/Fixtures/<name>).
  static func fixture(_ name: String) throws -> Data {
    guard let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
      throw FixtureError(message: "Fixtures folder missing from the test bundle")
    }
    return try Data(contentsOf: dir.appendingPathComponent(name))
  }

  /// The shared folder: $SPIQA_SHARED, else ../shared beside the package root, when it exists.
  static var shared: String? { TestPaths.shared }

  /// A file under the shared folder, when it exists.
  static func sharedFile(_ relative: String) -> String? { TestPaths.shared(relative) }
}

struct FixtureError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}
