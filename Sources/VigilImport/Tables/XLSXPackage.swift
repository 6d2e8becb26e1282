import Foundation
// Internal: no public API shows an archive, so VigilImport's users need not see ZIPFoundation.
internal import ZIPFoundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The zip archive an XLSX workbook is (ECMA-376 Part 2, Open Packaging Conventions): its
/// parts by name, their relationships, and their bytes inflated within limits — so that
/// a small archive that inflates to gigabytes (a zip bomb) is refused, not inflated.
struct XLSXPackage {
  /// The file as the user named it, for messages.
  let file: String
  private let archive: Archive
  /// Entries by lowercased name: part names compare case-insensitively, and some writers
  /// spell them differently from the relationships that point at them.
  private let entries: [String: (entry: Entry, index: Int)]
  /// Where each entry's compressed bytes lie, so that inflation reads only those.
  private let entryData: ZipEntryData

  /// Relationship files and the workbook part: small, read into memory.
  static let smallPartLimit: UInt64 = 64 << 20

  init(path: String) throws(TableError) {
    file = path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
      throw TableError(row: nil, "cannot open \(path): no such file")
    }
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw TableError(row: nil, "cannot open \(path): permission denied")
    }
    do {
      archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
    } catch {
      // A zip starts with a local header and ends with its central directory: a file
      // that starts as one but has no end was cut short (a copy or download broke off).
      let start = FileHandle(forReadingAtPath: path).flatMap { try? $0.read(upToCount: 4) }
      if start == Data([0x50, 0x4B, 0x03, 0x04]) {
        throw TableError(
          row: nil, "the workbook \(path) is damaged: it starts as a zip archive but has no end (was it cut short?)")
      }
      throw TableError(row: nil, "not an XLSX workbook (not a zip archive): \(path)")
    }
    do throws(ZipEntryData.Problem) {
      entryData = try ZipEntryData(path: path)
    } catch {
      throw TableError(row: nil, "the workbook \(path) is damaged: \(error.reason)")
    }
    var entries: [String: (entry: Entry, index: Int)] = [:]
    var count = 0
    for (index, entry) in archive.enumerated() {
      count += 1
      if entry.type == .file { entries[entry.path.lowercased()] = (entry, index) }
    }
    guard count == entryData.count else {
      throw TableError(row: nil, "the workbook \(path) is damaged: its central directory is short")
    }
    self.entries = entries
  }

  func contains(_ part: String) -> Bool {
    entries[part.lowercased()] != nil
  }

  /// The relationships of `part` (`""` for the package's own) by id, with their targets
  /// resolved to part names; none when the part has no relationships part.
  func relationships(of part: String) throws(TableError) -> [String: XLSXRelationshipsParser.Relationship] {
    var folders = part.split(separator: "/").map(String.init)
    let name = folders.popLast() ?? ""
    let relationshipsPart = (folders + ["_rels", name + ".rels"]).joined(separator: "/")
    guard contains(relationshipsPart) else { return [:] }
    let parser = XLSXRelationshipsParser(part: relationshipsPart, baseFolder: folders)
    try parser.parse(XMLParser(data: read(relationshipsPart)))
    return parser.relationships
  }

  /// A small part's bytes (at most `smallPartLimit`).
  func read(_ part: String) throws(TableError) -> Data {
    let limit = Self.smallPartLimit
    let entry = try self.entry(part)
    guard entry.uncompressedSize <= limit else {
      throw Self.pastLimit("the part \(part)", size: entry.uncompressedSize, limit: limit)
    }
    var data = Data()
    try inflate(part) { chunk throws(TableError) in
      guard UInt64(data.count + chunk.count) <= limit else {
        throw Self.pastLimit("the part \(part)", size: nil, limit: limit)
      }
      data.append(chunk)
    }
    return data
  }

  /// Inflates `part` into a new temporary file, readable by this user only, and returns
  /// it; the caller removes it. The entry is refused before inflating when its declared
  /// size is past `limit`, and while inflating once it outgrows the limit, since a
  /// crafted archive can declare a small size for a large stream. `what` names the part
  /// in that message ("the shared-strings table").
  func extract(_ part: String, limit: UInt64, what: String) throws(TableError) -> URL {
    let entry = try self.entry(part)
    guard entry.uncompressedSize <= limit else {
      throw Self.pastLimit(what, size: entry.uncompressedSize, limit: limit)
    }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-xlsx-\(UUID().uuidString).xml")
    // Held for removal on a signal until its reader removes it (audit 51: an import
    // interrupted while a sheet was inflated left tens of megabytes of incident data in
    // the temporary folder): `TemporaryCopies.remove(_:)`.
    TemporaryCopies.hold(url.path)
    guard
      FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]),
      let handle = try? FileHandle(forWritingTo: url)
    else {
      TemporaryCopies.release(url.path)
      throw TableError(row: nil, "cannot write a temporary copy of \(part) in \(url.deletingLastPathComponent().path)")
    }
    var written: UInt64 = 0
    do throws(TableError) {
      defer { try? handle.close() }
      try inflate(part) { chunk throws(TableError) in
        written += UInt64(chunk.count)
        guard written <= limit else { throw Self.pastLimit(what, size: nil, limit: limit) }
        do {
          try handle.write(contentsOf: chunk)
        } catch {
          throw TableError(row: nil, "cannot write a temporary copy of \(part): \(error.localizedDescription)")
        }
      }
    } catch {
      TemporaryCopies.remove(url.path)
      throw error
    }
    return url
  }

  // MARK: Entries

  private func entry(_ part: String) throws(TableError) -> Entry {
    try located(part).entry
  }

  private func located(_ part: String) throws(TableError) -> (entry: Entry, index: Int) {
    guard let located = entries[part.lowercased()] else {
      throw TableError(row: nil, "the workbook \(file) is damaged: its part \(part) is missing")
    }
    return located
  }

  /// Feeds `part`'s inflated bytes to `consume`, then checks them against the entry's
  /// CRC, which ZIPFoundation computes but leaves to the caller to compare. A deflated
  /// part is inflated from its own bytes only (`ZipEntryData`): a stream that has not
  /// ended when they run out is damage, not a reason to read on.
  private func inflate(_ part: String, into consume: (Data) throws(TableError) -> Void) throws(TableError) {
    // ZIPFoundation's closures throw untyped errors: ours travel through them boxed.
    struct Stop: Error { let error: TableError }
    let (entry, index) = try located(part)
    // No more than the size its headers declare: the limits are checked against that size
    // before inflating, and a part that lies about it would pass them.
    var inflated: UInt64 = 0
    let declared = entry.uncompressedSize
    func take(_ chunk: Data) throws(TableError) {
      inflated += UInt64(chunk.count)
      guard inflated <= declared else {
        throw damaged(part, "inflates past the \(declared) bytes its headers declare")
      }
      try consume(chunk)
    }
    let checksum: CRC32
    do {
      if entry.isCompressed {
        let range = try compressedRange(of: entry, index: index, part: part)
        var next = range.lowerBound
        checksum = try Data.decompress(
          size: Int64(entry.compressedSize), bufferSize: 64 * 1024, skipCRC32: false,
          provider: { _, size in
            // ZIPFoundation 0.9.20 gives zlib `size` bytes of input whatever the chunk's
            // length (Data+Compression.swift, `avail_in = bufferSize`), so a chunk is
            // always `size` bytes: the entry's own, then zeros — never less, or zlib reads
            // past the buffer, and never the bytes after the entry, which a stream that
            // runs on would take for its own. Once the entry's bytes are all given, a
            // stream that asks for more is damaged.
            guard next < range.upperBound else {
              throw Stop(error: self.damaged(part, "has a compressed stream that does not end within its own bytes"))
            }
            var chunk: Data
            do throws(ZipEntryData.Problem) {
              chunk = try self.entryData.read(at: next, count: Int(min(UInt64(size), range.upperBound - next)))
            } catch {
              throw Stop(error: self.damaged(part, error.reason))
            }
            if chunk.count < size { chunk.append(Data(count: size - chunk.count)) }
            next += UInt64(size)
            return chunk
          },
          consumer: { (chunk: Data) throws -> Void in
            do throws(TableError) { try take(chunk) } catch { throw Stop(error: error) }
          })
      } else {
        checksum = try archive.extract(entry, bufferSize: 64 * 1024) { chunk in
          do throws(TableError) { try take(chunk) } catch { throw Stop(error: error) }
        }
      }
    } catch let stop as Stop {
      throw stop.error
    } catch {
      throw damaged(part, "cannot be inflated (\(error))")
    }
    guard checksum == entry.checksum else { throw damaged(part, "fails its checksum") }
    guard inflated == declared else { throw damaged(part, "inflates to \(inflated) bytes, not the \(declared) its headers declare") }
  }

  private func compressedRange(of entry: Entry, index: Int, part: String) throws(TableError) -> Range<UInt64> {
    do throws(ZipEntryData.Problem) {
      return try entryData.compressedRange(ofEntry: index, compressedSize: entry.compressedSize)
    } catch {
      throw damaged(part, error.reason)
    }
  }

  /// "the workbook F is damaged: its part P fails its checksum"
  private func damaged(_ part: String, _ predicate: String) -> TableError {
    TableError(row: nil, "the workbook \(file) is damaged: its part \(part) \(predicate)")
  }

  /// `size` is nil when the inflation was stopped at the limit: the full size is unknown.
  private static func pastLimit(_ what: String, size: UInt64?, limit: UInt64) -> TableError {
    let amount = size.map { "\($0) bytes" } ?? "more than \(limit) bytes"
    return TableError(row: nil, "\(what) would inflate to \(amount), past the \(describe(limit)) limit")
  }

  /// "256 MiB", "2 GiB"; other sizes (tests' small limits) in bytes.
  private static func describe(_ bytes: UInt64) -> String {
    if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
    if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
    return "\(bytes)-byte"
  }
}

/// A `_rels/*.rels` part: relationship ids to types and target parts.
final class XLSXRelationshipsParser: XLSXPartParser {
  struct Relationship {
    let type: String
    /// The part the target names, without a leading slash (`xl/worksheets/sheet1.xml`).
    let target: String
  }
  private(set) var relationships: [String: Relationship] = [:]
  /// The folders of the part whose relationships these are: targets are relative to it.
  private let baseFolder: [String]

  init(part: String, baseFolder: [String]) {
    self.baseFolder = baseFolder
    super.init(part: part)
  }

  override func start(_ element: String, attributes: [String: String], parser: XMLParser) {
    guard element == "Relationship", let id = attributes["Id"], let type = attributes["Type"],
      let target = attributes["Target"], attributes["TargetMode"] != "External"
    else { return }
    relationships[id] = Relationship(type: type, target: resolve(target))
  }

  /// A target is a URI: relative to the base folder, or absolute from the package root.
  private func resolve(_ target: String) -> String {
    let decoded = target.removingPercentEncoding ?? target
    var segments = decoded.hasPrefix("/") ? [] : baseFolder
    for segment in decoded.split(separator: "/") {
      switch segment {
      case ".": continue
      case "..": _ = segments.popLast()
      default: segments.append(String(segment))
      }
    }
    return segments.joined(separator: "/")
  }
}
