import Foundation

/// Where each entry's compressed bytes lie in a zip file (APPNOTE 6.3.10 §4.3), read from
/// its central directory and local headers, so that an entry is inflated from exactly its
/// own bytes.
///
/// ZIPFoundation 0.9.20 (the mirror's release) inflates until the deflate stream ends and
/// keeps asking for more at the end of the file: a stream that never ends (a non-final
/// stored block that claims more bytes than the file has) made `vigil import` and the
/// spool spin at full CPU for good. Its entries' offsets are internal to it, so this reads
/// the few header fields needed, and `XLSXPackage` feeds the inflater from within them.
final class ZipEntryData {
  /// The compressed bytes' range in the file, per entry in central-directory order.
  private let recordOffsets: [UInt64]
  private let handle: FileHandle
  private let fileSize: UInt64

  enum Problem: Error {
    case damaged(String)

    var reason: String {
      switch self { case .damaged(let reason): reason }
    }
  }

  init(path: String) throws(Problem) {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw .damaged("cannot be opened") }
    self.handle = handle
    do {
      fileSize = try handle.seekToEnd()
    } catch {
      throw .damaged("cannot be read")
    }
    recordOffsets = try Self.localHeaderOffsets(handle, fileSize: fileSize)
  }

  var count: Int { recordOffsets.count }

  /// The range of the compressed bytes of the `index`th entry of the central directory,
  /// which declares `compressedSize` of them. A problem here is said of the entry
  /// ("has no local header").
  func compressedRange(ofEntry index: Int, compressedSize: UInt64) throws(Problem) -> Range<UInt64> {
    guard recordOffsets.indices.contains(index) else { throw .damaged("is missing from the central directory") }
    let header = recordOffsets[index]
    let fixed = try read(at: header, count: 30)
    guard fixed.uint32(at: 0) == 0x0403_4b50 else { throw .damaged("has no local header") }
    let start = header + 30 + UInt64(fixed.uint16(at: 26)) + UInt64(fixed.uint16(at: 28))
    guard start <= fileSize, compressedSize <= fileSize - start else {
      throw .damaged("runs past the end of the file")
    }
    return start..<(start + compressedSize)
  }

  /// Up to `count` bytes at `offset`, fewer only at the end of the file.
  func read(at offset: UInt64, count: Int) throws(Problem) -> Data {
    do {
      try handle.seek(toOffset: offset)
      return try handle.read(upToCount: count) ?? Data()
    } catch {
      throw .damaged("cannot be read")
    }
  }

  deinit { try? handle.close() }

  // MARK: The central directory

  private static func localHeaderOffsets(_ handle: FileHandle, fileSize: UInt64) throws(Problem) -> [UInt64] {
    let directory = try centralDirectory(handle, fileSize: fileSize)
    guard directory.offset <= fileSize, directory.size <= fileSize - directory.offset else {
      throw .damaged("its central directory lies past the end of the file")
    }
    let bytes: Data
    do {
      try handle.seek(toOffset: directory.offset)
      bytes = try handle.read(upToCount: Int(directory.size)) ?? Data()
    } catch {
      throw .damaged("cannot be read")
    }
    var offsets: [UInt64] = []
    var at = 0
    while offsets.count < directory.entries {
      guard at + 46 <= bytes.count, bytes.uint32(at: at) == 0x0201_4b50 else {
        throw .damaged("its central directory is short")
      }
      let nameLength = Int(bytes.uint16(at: at + 28))
      let extraLength = Int(bytes.uint16(at: at + 30))
      let commentLength = Int(bytes.uint16(at: at + 32))
      var offset = UInt64(bytes.uint32(at: at + 42))
      let extraStart = at + 46 + nameLength
      guard extraStart + extraLength + commentLength <= bytes.count else {
        throw .damaged("its central directory is short")
      }
      if offset == 0xFFFF_FFFF {
        offset = try zip64Offset(
          bytes[(bytes.startIndex + extraStart)..<(bytes.startIndex + extraStart + extraLength)],
          sizesInExtra: (bytes.uint32(at: at + 24) == 0xFFFF_FFFF ? 1 : 0)
            + (bytes.uint32(at: at + 20) == 0xFFFF_FFFF ? 1 : 0))
      }
      offsets.append(offset)
      at = extraStart + extraLength + commentLength
    }
    return offsets
  }

  /// The local header's offset from an entry's ZIP64 extra field (id 1), where it follows
  /// the sizes that did not fit their 32-bit fields.
  private static func zip64Offset(_ extra: Data, sizesInExtra: Int) throws(Problem) -> UInt64 {
    let extra = Data(extra)
    var at = 0
    while at + 4 <= extra.count {
      let id = extra.uint16(at: at)
      let length = Int(extra.uint16(at: at + 2))
      if id == 1 {
        let field = at + 4 + 8 * sizesInExtra
        guard field + 8 <= at + 4 + length, field + 8 <= extra.count else { break }
        return extra.uint64(at: field)
      }
      at += 4 + length
    }
    throw .damaged("an entry's ZIP64 offset is missing")
  }

  /// The central directory's offset, size and entry count, from the end-of-central-
  /// directory record (searched for back from the end, past a comment of up to 64 KiB)
  /// and, when its fields are full, the ZIP64 record it points to.
  private static func centralDirectory(_ handle: FileHandle, fileSize: UInt64) throws(Problem)
    -> (offset: UInt64, size: UInt64, entries: Int)
  {
    let tailLength = min(fileSize, 22 + 0xFFFF + 20)
    let tail: Data
    do {
      try handle.seek(toOffset: fileSize - tailLength)
      tail = try handle.read(upToCount: Int(tailLength)) ?? Data()
    } catch {
      throw .damaged("cannot be read")
    }
    guard tail.count >= 22,
      let end = stride(from: tail.count - 22, through: 0, by: -1).first(where: { tail.uint32(at: $0) == 0x0605_4b50 })
    else { throw .damaged("its end-of-central-directory record is missing") }
    var entries = UInt64(tail.uint16(at: end + 10))
    var size = UInt64(tail.uint32(at: end + 12))
    var offset = UInt64(tail.uint32(at: end + 16))
    if entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
      guard end >= 20, tail.uint32(at: end - 20) == 0x0706_4b50 else {
        throw .damaged("its ZIP64 end-of-central-directory locator is missing")
      }
      let recordOffset = tail.uint64(at: end - 12)
      let record: Data
      do {
        try handle.seek(toOffset: recordOffset)
        record = try handle.read(upToCount: 56) ?? Data()
      } catch {
        throw .damaged("cannot be read")
      }
      guard record.count == 56, record.uint32(at: 0) == 0x0606_4b50 else {
        throw .damaged("its ZIP64 end-of-central-directory record is missing")
      }
      entries = record.uint64(at: 32)
      size = record.uint64(at: 40)
      offset = record.uint64(at: 48)
    }
    // A central-directory record takes at least 46 bytes: a count past that is a lie.
    guard entries <= size / 46 else { throw .damaged("its central directory is short") }
    return (offset, size, Int(entries))
  }
}

extension Data {
  fileprivate func uint16(at offset: Int) -> UInt16 {
    let base = startIndex + offset
    return UInt16(self[base]) | UInt16(self[base + 1]) << 8
  }

  fileprivate func uint32(at offset: Int) -> UInt32 {
    UInt32(uint16(at: offset)) | UInt32(uint16(at: offset + 2)) << 16
  }

  fileprivate func uint64(at offset: Int) -> UInt64 {
    UInt64(uint32(at: offset)) | UInt64(uint32(at: offset + 4)) << 32
  }
}
