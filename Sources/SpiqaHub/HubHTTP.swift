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
final class HubHTTP {
  let timeout: TimeInterval

  init(timeout: TimeInterval) {
    self.timeout = timeout
  }

  /// (scheme, lower-cased host, port with the scheme's default) — what "same server" means for redirects.
  static func origin(_ url: URL) -> String {
    let scheme = url.scheme?.lowercased() ?? ""
    let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : 0)
    return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
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
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.urlCache = nil
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = 1
    let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
    defer { session.finishTasksAndInvalidate() }
    var request = URLRequest(url: url, timeoutInterval: timeout)
    request.httpMethod = method
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    transfer.originalOrigin = Self.origin(url)
    session.dataTask(with: request).resume()
    transfer.done.wait()
    return try transfer.result()
  }
}

/// Delegate state of one request; callbacks arrive on the session's serial queue, `result()` after `done`.
private final class HubTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  let followRedirects: Bool
  let sink: ((Data) throws -> Void)?
  let progress: ((Int64) -> Void)?
  var accept: ((HubHTTPResponse) -> Bool)?
  var originalOrigin: String?
  let done = DispatchSemaphore(value: 0)
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
    accepted = accept?(converted) ?? false
    lock.unlock()
    completionHandler(.allow)
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    lock.lock()
    let write = accepted && failure == nil
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
      if !(followRedirects == false && response != nil) { failure = error.localizedDescription }
    }
    if response == nil, failure == nil, let http = task.response as? HTTPURLResponse {
      response = Self.convert(http)
    }
    lock.unlock()
    done.signal()
  }
}
