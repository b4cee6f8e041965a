import Foundation

/// How long the Hub client waits, in seconds (docs/checkpoints.md, "The Hub cache"). Every limit ends the run with one line and exit 74.
///
/// - `connect`: for a server's answer (connection, request, status line and headers) to any request;
///   `SPIQA_HUB_CONNECT_TIMEOUT`, else huggingface_hub's `HF_HUB_ETAG_TIMEOUT`, default 10.
/// - `idle`: for the next bytes of a body once the answer has begun; `SPIQA_HUB_IDLE_TIMEOUT`, else
///   huggingface_hub's `HF_HUB_DOWNLOAD_TIMEOUT`, default 10.
/// - `total`: for a whole model resolution (every metadata request and download; time spent waiting on another
///   process's lock does not count); `SPIQA_HUB_TIMEOUT`, default 3600. huggingface_hub has no such limit; a
///   server that drips bytes just fast enough to beat `idle` would otherwise never end.
public struct HubTimeouts: Sendable, Equatable {
  public var connect: Double
  public var idle: Double
  public var total: Double

  public static let connectVariable = "SPIQA_HUB_CONNECT_TIMEOUT"
  public static let idleVariable = "SPIQA_HUB_IDLE_TIMEOUT"
  public static let totalVariable = "SPIQA_HUB_TIMEOUT"

  public init(connect: Double = 10, idle: Double = 10, total: Double = 3600) {
    self.connect = connect
    self.idle = idle
    self.total = total
  }

  /// The limits the environment sets (the variables above; an empty value counts as unset).
  /// - Throws: `HubError.usage` (64) for a value that is not a number of seconds > 0.
  public static func fromEnvironment(_ env: [String: String]) throws -> HubTimeouts {
    func seconds(_ names: [String], _ fallback: Double) throws -> Double {
      guard let name = names.first(where: { !(env[$0] ?? "").isEmpty }), let text = env[name] else { return fallback }
      guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite, v > 0, v <= 1e9 else {
        throw HubError.usage("\(name)='\(text)': expected a number of seconds greater than 0")
      }
      return v
    }
    return HubTimeouts(
      connect: try seconds([connectVariable, "HF_HUB_ETAG_TIMEOUT"], 10),
      idle: try seconds([idleVariable, "HF_HUB_DOWNLOAD_TIMEOUT"], 10),
      total: try seconds([totalVariable], 3600))
  }

  /// Seconds for messages: `2`, `0.5`.
  static func format(_ s: Double) -> String {
    s == s.rounded() && s < 1e15 ? String(Int(s)) : String(s)
  }
}
