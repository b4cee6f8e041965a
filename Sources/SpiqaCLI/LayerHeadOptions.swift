import ArgumentParser

/// `--layers` and `--heads` of spiqa-extract (what is recorded) and spiqa-hist (what is counted): index lists such
/// as `0,3-5` (`parseIndexList`), nil for all.
public struct LayerHeadOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: ArgumentHelp("Layers to keep, e.g. 0,3-5 (default: all).", valueName: "list"))
  public var layers: String?

  @Option(parsing: .unconditional, help: ArgumentHelp("Heads to keep, e.g. 0-3 (default: all).", valueName: "list"))
  public var heads: String?

  public init() {}

  public func validate() throws {
    _ = try layerIndices()
    _ = try headIndices()
  }

  /// The sorted layer indices, nil for all. - Throws: `ValidationError` naming the list.
  public func layerIndices() throws -> [Int]? { try layers.map { try parseIndexList($0) } }
  /// The sorted head indices, nil for all. - Throws: `ValidationError` naming the list.
  public func headIndices() throws -> [Int]? { try heads.map { try parseIndexList($0) } }
}
