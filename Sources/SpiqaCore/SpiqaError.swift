/// What kind of failure an error is: the one place that decides a tool's exit code.
///
/// The codes are the BSD `sysexits.h` ones the tools have always used: 64 `EX_USAGE`, 65 `EX_DATAERR`,
/// 74 `EX_IOERR`, and 1 for anything else.
public enum SpiqaErrorKind: Sendable, Equatable {
  /// A request that cannot be honoured (bad parameter values, options that do not fit the data): exit 64.
  case usage
  /// Malformed, truncated or inconsistent input data: exit 65.
  case badData
  /// The operating system refused a read, write, open or rename: exit 74.
  case io
  /// The reader of our output went away (`EPIPE`): tools end quietly, as `SIGPIPE` would (141 in a shell).
  case brokenPipe
  /// Anything else, e.g. an API used in a way that can never work: exit 1.
  case other

  /// The process exit code a tool ends with.
  public var exitCode: Int32 {
    switch self {
    case .usage: return 64
    case .badData: return 65
    case .io: return 74
    case .brokenPipe: return 141
    case .other: return 1
    }
  }
}

/// An error of a spiqa library: one line saying what went wrong (and where), and its kind.
///
/// Libraries say what went wrong; the command-line layer (`SpiqaCLI.runTool`) prints `<tool>: <description>`
/// and ends with `kind.exitCode`, for every conforming type alike.
public protocol SpiqaError: Error, CustomStringConvertible {
  /// What kind of failure this is; decides the exit code.
  var kind: SpiqaErrorKind { get }
}

extension SpiqaError {
  /// The process exit code a tool ends with: `kind.exitCode`.
  public var exitCode: Int32 { kind.exitCode }
}
