import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A sheet's rows, parsed on a thread of their own and handed to the reader's `next()`.
///
/// Why a thread: `XMLParser` pushes events until the document ends, while a
/// `TableReader` is pulled a row at a time. So the parser runs on its own thread and
/// waits whenever `capacity` batches of rows are waiting to be read: memory stays bounded
/// by `(capacity + 2) × batchSize` rows (the batches waiting, the one being filled, the
/// one being read), whatever the sheet's size. Rows travel in batches so that the two
/// threads meet once per batch, not once per row.
///
/// The sheet is parsed from `copy`, the part inflated to a temporary file: Foundation's
/// `XMLParser` reads a stream in chunks, but it cannot be fed the zip's inflated chunks as
/// they come (ZIPFoundation pushes them all in one call). The thread removes the copy once
/// it has it open. It ends at the sheet's end, at its first malformed XML, or soon after
/// the stream is released (the reader dropped early).
final class XLSXSheetStream {
  typealias Item = Result<XLSXSheetRow, TableError>

  private let channel: XLSXRowChannel
  /// The batch being read, and the next item's index in it.
  private var batch: [Item] = []
  private var position = 0

  /// `onParserEnd` runs on the parsing thread as it ends: how tests see that it does.
  init(
    copy: URL, part: String, sharedStrings: [String], batchSize: Int = 128, capacity: Int = 2,
    onParserEnd: (@Sendable () -> Void)? = nil
  ) {
    let channel = XLSXRowChannel(capacity: capacity)
    self.channel = channel
    let thread = Thread {
      defer { onParserEnd?() }
      // Removed as soon as it is open: the open file keeps its bytes for the parser, and
      // the copy does not outlive the process (a reader dropped just before exit, a crash
      // while reading). `parse()` opens the stream again: a no-op on an open stream.
      let stream = InputStream(url: copy)
      stream?.open()
      TemporaryCopies.remove(copy.path)
      guard let stream, stream.streamStatus == .open else {
        channel.finish(TableError(row: nil, "cannot read the temporary copy of \(part) at \(copy.path)"))
        return
      }
      let parser = XMLParser(stream: stream)
      var filling: [Item] = []
      filling.reserveCapacity(batchSize)
      let sheet = XLSXSheetParser(part: part, sharedStrings: sharedStrings) { item in
        filling.append(item)
        guard filling.count >= batchSize else { return true }
        defer { filling.removeAll(keepingCapacity: true) }
        return channel.send(filling)
      }
      do throws(TableError) {
        try sheet.parse(parser)
        if !filling.isEmpty, !channel.send(filling) { return }
        channel.finish(nil)
      } catch {
        // Rows read before the error are still delivered, then the error.
        if !filling.isEmpty, !channel.send(filling) { return }
        channel.finish(error)
      }
    }
    thread.name = "vigil-xlsx-sheet"
    thread.start()
  }

  deinit {
    channel.cancel()
  }

  /// The next row, or a row's error (the rows after it can still be read); nil at the
  /// end. Throws the error that ended the sheet early, at every call from then on.
  func next() throws(TableError) -> Item? {
    if position == batch.count {
      switch channel.receive() {
      case .rows(let rows):
        batch = rows
        position = 0
      case .end: return nil
      case .failed(let error): throw error
      }
    }
    defer { position += 1 }
    return batch[position]
  }
}

/// The hand-over between the parsing thread and the reader: batches of items, at most
/// `capacity` of them waiting. All state is guarded by `condition`.
final class XLSXRowChannel: @unchecked Sendable {
  enum Received {
    case rows([XLSXSheetStream.Item])
    case end
    case failed(TableError)
  }

  private enum State {
    case open
    case finished
    case failed(TableError)
    /// The reader is gone: the parser stops at its next batch.
    case cancelled
  }

  private let condition = NSCondition()
  private let capacity: Int
  private var waiting: [[XLSXSheetStream.Item]] = []
  private var state = State.open

  init(capacity: Int) {
    self.capacity = capacity
  }

  /// Waits while the channel is full; false when the reader is gone (stop parsing).
  func send(_ batch: [XLSXSheetStream.Item]) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while waiting.count >= capacity, case .open = state {
      condition.wait()
    }
    guard case .open = state else { return false }
    waiting.append(batch)
    condition.broadcast()
    return true
  }

  /// The sheet ended: at its end (nil), or at `failure`.
  func finish(_ failure: TableError?) {
    condition.lock()
    defer { condition.unlock() }
    guard case .open = state else { return }
    state = failure.map(State.failed) ?? .finished
    condition.broadcast()
  }

  func cancel() {
    condition.lock()
    defer { condition.unlock() }
    state = .cancelled
    waiting.removeAll()
    condition.broadcast()
  }

  /// Waits for a batch or the end.
  func receive() -> Received {
    condition.lock()
    defer { condition.unlock() }
    while waiting.isEmpty, case .open = state {
      condition.wait()
    }
    if !waiting.isEmpty {
      condition.broadcast()
      return .rows(waiting.removeFirst())
    }
    if case .failed(let error) = state { return .failed(error) }
    return .end
  }
}
