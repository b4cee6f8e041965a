import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Status and headers of one HTTP response (header names lower-cased).
struct HubHTTPResponse {
  let status: Int
  let headers: [String: String]
  let url: URL

  func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A transport failure (no HTTP status): refused connection, timeout, connection dropped mid-body, write error.
struct HubTransportError: Error {
  let message: String
}

/// Synchronous HTTP over URLSession (FoundationNetworking on Linux), one request per call.
///
/// `head` never follows redirects (the caller decides; the Hub's 302 to its CDN carries the metadata); `get`
/// follows them, drops the `Authorization` header when a redirect leaves the original origin (the CDN must not
/// see the token), and streams the body to a sink.
///
/// Time limits are enforced here, by a watchdog, not by URLSession (whose request timeout restarts with every
/// byte, so a server dripping one byte at a time never times out): see `HubTimeouts`.
final class HubHTTP {
  let timeouts: HubTimeouts
  /// When the whole operation (one model resolution) must be over; nil: `timeouts.total` from the first request.
  private(set) var deadline: DispatchTime?

  init(timeouts: HubTimeouts) {
    self.timeouts = timeouts
  }

  /// Starts the overall clock (`timeouts.total`) now; requests after the deadline fail at once.
  func startClock() {
    deadline = .now() + timeouts.total
  }

  /// Moves the deadline later by `seconds` (time spent waiting for another process's download is not ours).
  func extendClock(by seconds: Double) {
    if let d = deadline { deadline = d + seconds }
  }

  /// (scheme, lower-cased host, port with the scheme's default) — what "same server" means for redirects.
  static func origin(_ url: URL) -> String {
    let scheme = url.scheme?.lowercased() ?? ""
    let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : 0)
    return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
  }

  /// `host:port` for messages.
  static func hostPort(_ url: URL) -> String {
    url.port.map { "\(url.host ?? ""):\($0)" } ?? (url.host ?? url.absoluteString)
  }

  /// A HEAD request, redirects not followed.
  func head(_ url: URL, headers: [String: String]) throws -> HubHTTPResponse {
    let transfer = HubTransfer(followRedirects: false, sink: nil, progress: nil)
    return try run(url, method: "HEAD", headers: headers, transfer: transfer)
  }

  /// A GET whose body goes to `sink` (called with each chunk once the status is known), redirects followed.
  /// `accept` decides from the final status whether the body is wanted; the body of a refused response is dropped.
  func get(
    _ url: URL, headers: [String: String], accept: @escaping (HubHTTPResponse) -> Bool,
    sink: @escaping (Data) throws -> Void, progress: ((Int64) -> Void)?
  ) throws -> HubHTTPResponse {
    let transfer = HubTransfer(followRedirects: true, sink: sink, progress: progress)
    transfer.accept = accept
    return try run(url, method: "GET", headers: headers, transfer: transfer)
  }

  private func run(_ url: URL, method: String, headers: [String: String], transfer: HubTransfer) throws
    -> HubHTTPResponse
  {
    if deadline == nil { startClock() }
    let deadline = self.deadline ?? .now()
    guard DispatchTime.now() < deadline else { throw HubTransportError(message: totalMessage()) }
    // URLSession's own limits sit behind the watchdog's, so the watchdog reports first and says which limit.
    let slack = 30.0
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = max(timeouts.connect, timeouts.idle) + slack
    configuration.timeoutIntervalForResource = timeouts.total + slack
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.urlCache = nil
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = 1
    let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
    defer { session.finishTasksAndInvalidate() }
    var request = URLRequest(url: url, timeoutInterval: max(timeouts.connect, timeouts.idle) + slack)
    request.httpMethod = method
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    transfer.originalOrigin = Self.origin(url)
    transfer.host = Self.hostPort(url)
    let task = session.dataTask(with: request)
    transfer.touch()
    task.resume()
    while transfer.done.wait(timeout: .now() + 0.05) == .timedOut {
      let now = DispatchTime.now()
      let overdue: String?
      if now >= deadline {
        overdue = totalMessage()
      } else {
        overdue = transfer.overdue(now: now, timeouts: timeouts)
      }
      if let overdue {
        transfer.fail(overdue)
        task.cancel()
        // The delegate stops writing once failed; give URLSession a moment to report the cancellation.
        _ = transfer.done.wait(timeout: .now() + 5)
        break
      }
    }
    return try transfer.result()
  }

  private func totalMessage() -> String {
    "not finished within \(HubTimeouts.format(timeouts.total)) s (\(HubTimeouts.totalVariable))"
  }

  /// One line for a URLSession error, instead of Foundation's "NSURLErrorDomain error -1001".
  static func describe(_ error: Error, host: String) -> String {
    let e = error as NSError
    guard e.domain == NSURLErrorDomain else { return error.localizedDescription }
    switch e.code {
    case NSURLErrorTimedOut: return "\(host) timed out"
    case NSURLErrorCannotConnectToHost: return "cannot connect to \(host) (connection refused)"
    case NSURLErrorCannotFindHost, NSURLErrorDNSLookupFailed: return "cannot resolve the host name of \(host)"
    case NSURLErrorNetworkConnectionLost: return "the connection to \(host) was lost"
    case NSURLErrorNotConnectedToInternet: return "no network connection (to \(host))"
    case NSURLErrorCancelled: return "the request to \(host) was cancelled"
    case NSURLErrorBadServerResponse: return "\(host) sent a malformed HTTP response"
    case NSURLErrorSecureConnectionFailed, NSURLErrorServerCertificateUntrusted, NSURLErrorServerCertificateHasBadDate,
      NSURLErrorServerCertificateHasUnknownRoot, NSURLErrorServerCertificateNotYetValid:
      return "TLS connection to \(host) failed (certificate or handshake)"
    default: return "network error \(e.code) talking to \(host)"
    }
  }
}

/// Delegate state of one request; callbacks arrive on the session's serial queue, `result()` after `done`.
private final class HubTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  let followRedirects: Bool
  let sink: ((Data) throws -> Void)?
  let progress: ((Int64) -> Void)?
  var accept: ((HubHTTPResponse) -> Bool)?
  var originalOrigin: String?
  var host = ""
  let done = DispatchSemaphore(value: 0)
  /// When the request last made progress (sent, redirected, answered, a body chunk arrived).
  private var lastEvent = DispatchTime.now()
  private let lock = NSLock()
  private var response: HubHTTPResponse?
  private var failure: String?
  private var accepted = false
  private var received: Int64 = 0

  init(followRedirects: Bool, sink: ((Data) throws -> Void)?, progress: ((Int64) -> Void)?) {
    self.followRedirects = followRedirects
    self.sink = sink
    self.progress = progress
  }

  /// Records progress now (the idle clock restarts).
  func touch() {
    lock.lock()
    lastEvent = .now()
    lock.unlock()
  }

  /// Ends the transfer with `message`; nothing more is written to the sink.
  func fail(_ message: String) {
    lock.lock()
    if failure == nil { failure = message }
    lock.unlock()
  }

  /// Why the request is overdue at `now`, or nil: waiting for an answer longer than `connect`, or for the next
  /// body bytes longer than `idle`.
  func overdue(now: DispatchTime, timeouts: HubTimeouts) -> String? {
    lock.lock()
    defer { lock.unlock() }
    let waited = Double(now.uptimeNanoseconds &- lastEvent.uptimeNanoseconds) / 1e9
    if response == nil {
      guard waited >= timeouts.connect else { return nil }
      return "no answer from \(host) within \(HubTimeouts.format(timeouts.connect)) s "
        + "(\(HubTimeouts.connectVariable))"
    }
    guard waited >= timeouts.idle else { return nil }
    return "no data from \(host) for \(HubTimeouts.format(timeouts.idle)) s (\(HubTimeouts.idleVariable))"
  }

  func result() throws -> HubHTTPResponse {
    lock.lock()
    defer { lock.unlock() }
    if let failure { throw HubTransportError(message: failure) }
    guard let response else { throw HubTransportError(message: "no response") }
    return response
  }

  private static func convert(_ r: HTTPURLResponse) -> HubHTTPResponse {
    var headers: [String: String] = [:]
    for (k, v) in r.allHeaderFields {
      if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v }
    }
    return HubHTTPResponse(status: r.statusCode, headers: headers, url: r.url ?? URL(fileURLWithPath: "/"))
  }

  func urlSession(
    _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
  ) {
    guard followRedirects else {
      lock.lock()
      self.response = Self.convert(response)
      lock.unlock()
      completionHandler(nil)
      return
    }
    lock.lock()
    lastEvent = .now()
    if let url = request.url { host = HubHTTP.hostPort(url) }
    lock.unlock()
    var next = request
    if next.url.map(HubHTTP.origin) != originalOrigin { next.setValue(nil, forHTTPHeaderField: "Authorization") }
    completionHandler(next)
  }

  func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
  ) {
    guard let http = response as? HTTPURLResponse else {
      lock.lock()
      failure = "not an HTTP response"
      lock.unlock()
      completionHandler(.cancel)
      return
    }
    let converted = Self.convert(http)
    lock.lock()
    self.response = converted
    lastEvent = .now()
    accepted = accept?(converted) ?? false
    lock.unlock()
    completionHandler(.allow)
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    lock.lock()
    let write = accepted && failure == nil
    lastEvent = .now()
    lock.unlock()
    guard write, let sink else { return }
    do {
      try sink(data)
      received += Int64(data.count)
      progress?(received)
    } catch {
      lock.lock()
      failure = "cannot write the download: \(error)"
      lock.unlock()
      dataTask.cancel()
    }
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
    lock.lock()
    if let error, failure == nil {
      // A HEAD whose redirect we declined may report cancellation; the redirect response is the answer.
      if !(followRedirects == false && response != nil) { failure = HubHTTP.describe(error, host: host) }
    }
    if response == nil, failure == nil, let http = task.response as? HTTPURLResponse {
      response = Self.convert(http)
    }
    lock.unlock()
    done.signal()
  }
}
