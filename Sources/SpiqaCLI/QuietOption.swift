import ArgumentParser

/// `-q/--quiet`, the same flag on every tool.
public struct QuietOption: ParsableArguments {
  @Flag(name: [.short, .long], help: "No progress or summary on standard error.")
  public var quiet = false

  public init() {}
}
