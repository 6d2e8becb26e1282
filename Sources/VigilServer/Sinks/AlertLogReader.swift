import Foundation
import VigilCore

/// Reads alert records forward from the alert log and the files the built-in rotation
/// renamed (`alerts.jsonl.K` … `alerts.jsonl.1`, then `alerts.jsonl`), oldest first. It
/// follows the file it reads by its inode, so a rename under it (rotation) loses nothing;
/// only complete lines are read, so a line being written is taken next time.
final class AlertLogReader {
  /// Records that are in no file the log keeps any more.
  struct Gap: Equatable {
    let from: UInt64
    let to: UInt64

    /// `gaps` with `gap` added, ranges that overlap or touch made one, in order.
    static func merging(_ gap: Gap, into gaps: [Gap]) -> [Gap] {
      var merged: [Gap] = []
      for next in (gaps + [gap]).sorted(by: { $0.from < $1.from }) {
        if let last = merged.last, next.from <= last.to &+ 1 {
          merged[merged.count - 1] = Gap(from: last.from, to: max(last.to, next.to))
        } else {
          merged.append(next)
        }
      }
      return merged
    }
  }

  private let path: String
  private let keep: Int
  /// The file being read, and how far.
  private var inode: UInt64?
  private var offset: Int = 0

  init(path: String, keep: Int) {
    self.path = path
    self.keep = keep
  }

  /// Where the next read starts: a file by its inode, and how far into it.
  struct Position: Equatable {
    var inode: UInt64?
    var offset = 0
  }

  /// Where reading has got to; `read` moves it, a caller that must read the same records
  /// again (their delivery failed) puts it back.
  var position: Position {
    get { Position(inode: inode, offset: offset) }
    set {
      inode = newValue.inode
      offset = newValue.offset
    }
  }

  /// Up to `limit` records after `seq` and up to `bound` (the last the writer has made
  /// durable: a line past it may yet be cut back), in order and without a hole; and the
  /// records right after `seq` that no kept file holds, when the first record found is
  /// not `seq + 1`.
  ///
  /// The position is a hint, checked against the records it finds: when the first record
  /// past it is not `seq + 1` (an inode that rotation freed and a new file took, a file
  /// renamed in a way the hint does not follow), the kept files are read again from the
  /// oldest before a gap is believed. A batch ends before a hole in the `seq`s, so the
  /// next read starts at it and checks it the same way.
  func read(after seq: UInt64, upTo bound: UInt64 = .max, limit: Int) throws(RotatedFiles.ReadFailure) -> (
    records: [RecordedAlert], gap: Gap?
  ) {
    var checkedFromOldest = false
    while true {
      let files = RotatedFiles.kept(path, keep: keep)
      let hinted = files.firstIndex { $0.inode == inode }
      if hinted == nil { offset = 0 }
      let fromOldest = (hinted ?? 0) == 0 && offset == 0
      switch try scan(files, from: hinted ?? 0, after: seq, upTo: bound, limit: limit, trustingHint: fromOldest || checkedFromOldest) {
      case .records(let records):
        let gap = records.first.flatMap { $0.seq > seq + 1 ? Gap(from: seq + 1, to: $0.seq - 1) : nil }
        return (records, gap)
      case .hintWrong:
        inode = nil
        offset = 0
        checkedFromOldest = true
      }
    }
  }

  private enum Scan {
    case records([RecordedAlert])
    /// The first record past the position was not the next one: read again from the oldest.
    case hintWrong
  }

  private func scan(
    _ files: [(path: String, inode: UInt64)], from first: Int, after seq: UInt64, upTo bound: UInt64, limit: Int,
    trustingHint: Bool
  ) throws(RotatedFiles.ReadFailure) -> Scan {
    var index = first
    var records: [RecordedAlert] = []
    while index < files.count, records.count < limit {
      inode = files[index].inode
      // Lines at or before `seq` may come first (a hint that is behind): not too few.
      let chunk = try RotatedFiles.completeLines(of: files[index].path, from: offset, maxLines: max(limit - records.count, 64))
      offset = chunk.start
      var stopped = false
      for (line, end) in chunk.lines {
        guard records.count < limit else {
          stopped = true
          break
        }
        guard let lineSeq = Self.seq(of: line) else {
          // A line that is no record (part of one, at a wrong offset) is passed over.
          offset = end
          continue
        }
        if lineSeq > bound {
          stopped = true
          break
        }
        if lineSeq <= seq {
          offset = end
          continue
        }
        let expected = records.last.map { $0.seq + 1 } ?? seq + 1
        if lineSeq != expected {
          if records.isEmpty && !trustingHint { return .hintWrong }
          // A hole after some records: this batch ends before it.
          if !records.isEmpty {
            stopped = true
            break
          }
        }
        offset = end
        records.append(RecordedAlert(seq: lineSeq, line: line))
      }
      guard !stopped, records.count < limit else { break }
      offset = chunk.consumed
      if chunk.more { continue }
      // At the end of a file that is not the newest: the next one follows it.
      guard index + 1 < files.count else { break }
      index += 1
      offset = 0
    }
    // Nothing past the hint although the writer has made records after `seq` durable: the
    // hint is on a file they are not in (an inode that rotation freed and a new, empty log
    // took), so they are looked for from the oldest file. (Read from the hint, the sink
    // waited there, past alerts the kept files held, until a new one was written.)
    if records.isEmpty, !trustingHint, bound > seq, bound != .max { return .hintWrong }
    return .records(records)
  }

  /// A record's `seq`: every line starts `{"seq":N,`.
  static func seq(of line: String) -> UInt64? {
    let prefix = "{\"seq\":"
    guard line.hasPrefix(prefix) else { return nil }
    return UInt64(line.dropFirst(prefix.count).prefix { $0.isASCII && $0.isNumber })
  }
}
