internal import CBuildInfo

/// What `spiqa-* --version` prints: the release number and the git commit the tool was built from
/// (`make` records it; see Sources/CBuildInfo/build_info.c).
public enum SpiqaVersion {
  /// The release number of the toolkit.
  public static let number = "0.1.0"
  /// `git describe --always --dirty` at build time ("unknown" without `make` or without git).
  public static let commit = String(cString: spiqa_build_commit())

  /// `spiqa-hist 0.1.0 (commit f542b18)`.
  public static func line(_ tool: String) -> String { "\(tool) \(number) (commit \(commit))" }
}
