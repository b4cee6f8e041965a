import Foundation

/// Where and how to reach the Hugging Face Hub, read from the same environment variables as huggingface_hub.
public struct HubConfiguration: Sendable {
  /// `HF_ENDPOINT`, default `https://huggingface.co` (no trailing slash).
  public var endpoint: String
  /// `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
  public var cacheDirectory: String
  /// `HF_HUB_OFFLINE=1`: use the cache only.
  public var offline: Bool
  /// `HF_TOKEN`, else the file `$HF_HOME/token` written by `huggingface-cli login`; sent as a Bearer token.
  public var token: String?
  /// Print download progress on stderr (files of 1 MiB or more); off with `HF_HUB_DISABLE_PROGRESS_BARS=1`.
  public var showProgress: Bool
  /// How long to wait for an answer, for the next bytes, and for the whole run (`HubTimeouts`).
  public var timeouts: HubTimeouts

  public init(
    endpoint: String = "https://huggingface.co", cacheDirectory: String, offline: Bool = false,
    token: String? = nil, showProgress: Bool = true, timeouts: HubTimeouts = HubTimeouts()
  ) {
    var e = endpoint
    while e.hasSuffix("/") { e.removeLast() }
    self.endpoint = e
    self.cacheDirectory = cacheDirectory
    self.offline = offline
    self.token = token
    self.showProgress = showProgress
    self.timeouts = timeouts
  }

  /// The configuration the environment describes.
  /// - Throws: `HubError.usage` (64) for a timeout variable that is not a number of seconds > 0.
  public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws
    -> HubConfiguration
  {
    func value(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }
    let home = value("HOME") ?? NSHomeDirectory()
    let hfHome = value("HF_HOME") ?? ((value("XDG_CACHE_HOME") ?? home + "/.cache") + "/huggingface")
    let cache = value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE") ?? hfHome + "/hub"
    let offline = ["1", "ON", "YES", "TRUE"].contains((value("HF_HUB_OFFLINE") ?? "").uppercased())
    var token = value("HF_TOKEN") ?? value("HUGGING_FACE_HUB_TOKEN")
    if token == nil, let text = try? String(contentsOfFile: hfHome + "/token", encoding: .utf8) {
      let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
      token = t.isEmpty ? nil : t
    }
    let quiet = ["1", "ON", "YES", "TRUE"].contains((value("HF_HUB_DISABLE_PROGRESS_BARS") ?? "").uppercased())
    return HubConfiguration(
      endpoint: value("HF_ENDPOINT") ?? "https://huggingface.co", cacheDirectory: expandTilde(cache, home: home),
      offline: offline, token: token, showProgress: !quiet, timeouts: try HubTimeouts.fromEnvironment(env))
  }

  private static func expandTilde(_ path: String, home: String) -> String {
    path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
  }
}
