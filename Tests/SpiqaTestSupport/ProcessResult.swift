import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How a process run by `runProcess` ended, and what it wrote.
public struct ProcessResult: Sendable {
  /// The exit status, or the signal number when `signaled`.
  public var status: Int32
  /// True when the process ended by a signal.
  public var signaled: Bool
  /// Standard output, as bytes.
  public var stdout: Data
  /// Standard error, as UTF-8 text.
  public var stderr: String

  /// Standard output as UTF-8 text.
  public var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs a program to its end: the one way the tests start processes (tools, python3 scripts).
///
/// Standard output and error go to temporary files, so a full pipe can never stall the process. Standard input is
/// `stdin` written into a pipe, else the file `stdinFile`, else empty. `environment` entries are added to this
/// process's environment. With `stdoutLimit`, standard output is a pipe closed after that many bytes, as
/// `| head -c N` would close it; with `stdoutPath`, standard output is that file (e.g. `/dev/full`) and `stdout`
/// of the result is empty.
public func runProcess(
  _ executable: String, _ arguments: [String], stdin: Data? = nil, stdinFile: String? = nil,
  environment: [String: String] = [:], stdoutLimit: Int? = nil, stdoutPath: String? = nil
) throws -> ProcessResult {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = arguments
  if !environment.isEmpty {
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  }
  let files = FileManager.default
  let tag = UUID().uuidString
  let outURL = files.temporaryDirectory.appendingPathComponent("spiqa-test-\(tag).out")
  let errURL = files.temporaryDirectory.appendingPathComponent("spiqa-test-\(tag).err")
  _ = files.createFile(atPath: outURL.path, contents: nil)
  _ = files.createFile(atPath: errURL.path, contents: nil)
  defer {
    try? files.removeItem(at: outURL)
    try? files.removeItem(at: errURL)
  }
  let outFile = try FileHandle(forWritingTo: outURL)
  let errFile = try FileHandle(forWritingTo: errURL)
  defer {
    try? outFile.close()
    try? errFile.close()
  }
  let outPipe = stdoutLimit.map { _ in Pipe() }
  let outPath = try stdoutPath.map { path in
    guard let h = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission) }
    return h
  }
  defer { try? outPath?.close() }
  p.standardOutput = outPipe ?? outPath ?? outFile
  p.standardError = errFile
  let inPipe = stdin.map { _ in Pipe() }
  if let inPipe {
    p.standardInput = inPipe
  } else if let stdinFile {
    p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinFile))
  } else {
    p.standardInput = FileHandle.nullDevice
  }
  try p.run()
  if let inPipe, let stdin {
    inPipe.fileHandleForWriting.write(stdin)
    try inPipe.fileHandleForWriting.close()
  }
  var stdout = Data()
  if let outPipe, let limit = stdoutLimit {
    let reader = outPipe.fileHandleForReading
    while stdout.count < limit, let chunk = try reader.read(upToCount: limit - stdout.count), !chunk.isEmpty {
      stdout.append(chunk)
    }
    try reader.close()
  }
  p.waitUntilExit()
  if outPipe == nil && outPath == nil { stdout = try Data(contentsOf: outURL) }
  return ProcessResult(
    status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal, stdout: stdout,
    stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

/// A program started by `startProcess` and still running: its standard input is a pipe kept open (the program
/// waits for its input), its output and error are discarded. For tests that signal a process mid-run.
public final class RunningProcess {
  private let process: Process
  private let input: Pipe

  fileprivate init(process: Process, input: Pipe) {
    self.process = process
    self.input = input
  }

  /// The process id.
  public var pid: Int32 { process.processIdentifier }

  /// Sends `signal` to the process.
  public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

  /// Waits for the end, then closes standard input; `stdout` and `stderr` of the result are empty.
  public func wait() throws -> ProcessResult {
    process.waitUntilExit()
    try input.fileHandleForWriting.close()
    return ProcessResult(
      status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal, stdout: Data(),
      stderr: "")
  }
}

/// Starts a program and returns at once (see `RunningProcess`); `environment` as in `runProcess`.
public func startProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
  -> RunningProcess
{
  let p = Process()
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = arguments
  if !environment.isEmpty {
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  }
  let input = Pipe()
  p.standardInput = input
  p.standardOutput = FileHandle.nullDevice
  p.standardError = FileHandle.nullDevice
  try p.run()
  return RunningProcess(process: p, input: input)
}
