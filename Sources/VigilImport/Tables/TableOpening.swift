import Foundation

/// A reader for a file by its mapping's `format`, else by the file's extension: what
/// `vigil import` and the spool source both open files with.
public enum TableOpening {
  /// `name`, the file's own name when `path` reaches it otherwise (`/proc/self/fd/N`, a
  /// descriptor opened without following links): its extension tells the format.
  public static func reader(for path: String, name: String? = nil, mapping: Mapping) throws -> any TableReader {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
      throw TableError(row: nil, "it is a directory: give the files in it")
    }
    let named = ((name ?? path) as NSString).pathExtension.lowercased()
    let format = mapping.format ?? named
    // A workbook is read from its end: a pipe (`<(…)`, a FIFO) has none to seek to.
    var status = stat()
    if format == "xlsx", stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFIFO || status.st_mode & S_IFMT == S_IFCHR
      || status.st_mode & S_IFMT == S_IFSOCK
    {
      throw TableError(
        row: nil,
        "it is a pipe, not a file, and a workbook is read from its end: give the file itself, or pipe it to standard "
          + "input (-), which is copied to a temporary file first")
    }
    do {
      return try open(path, as: format, mapping: mapping)
    } catch let error as TableError where error.row == nil && Self.isWrongReader(error) {
      // Said with what chose the reader: the mapping's format, or the file's name.
      if let given = mapping.format, given != named, !(given == "ndjson" && named == "jsonl"), !named.isEmpty {
        throw TableError(
          row: nil,
          error.message + " (the mapping \(mapping.name) reads \(given) files, its format:; this file is named .\(named): "
            + "is it this file's mapping?)")
      }
      if error.message.hasPrefix("the file is a zip archive") {
        // The mapping's format decides whatever the name says: renaming cannot help then.
        throw TableError(
          row: nil,
          error.message
            + (mapping.format == nil
              ? ": name it .xlsx, or read it with a mapping whose format: is xlsx"
              : ": the mapping \(mapping.name) reads \(mapping.format ?? "") files (its format:); read it with a mapping whose format: is xlsx"))
      }
      throw error
    }
  }

  /// Whether an error says the file is not what its reader reads (a workbook read as text,
  /// text that is no JSON export), rather than a fault of the file's own.
  private static func isWrongReader(_ error: TableError) -> Bool {
    ["the file is a zip archive", "not an XLSX workbook", "the top level must be"].contains { error.message.hasPrefix($0) }
  }

  private static func open(_ path: String, as format: String, mapping: Mapping) throws -> any TableReader {
    // A file that cannot be read is said so whatever its name: a missing file without an
    // extension was told it had none (audit 45).
    if !["csv", "xlsx", "json", "ndjson", "jsonl"].contains(format), access(path, R_OK) != 0 {
      throw TableError(row: nil, "cannot read \(path): \(String(cString: strerror(errno)))")
    }
    switch format {
    case "":
      throw TableError(row: nil, "its name has no extension to tell its format (csv, xlsx, json, ndjson); say format: in the mapping")
    case "csv": return try CSVReader(path: path)
    case "xlsx": return try XLSXReader(path: path, sheet: mapping.sheet)
    case "json": return try JSONRecordsReader(path: path, columns: mapping.headerNames, ndjson: false)
    case "ndjson", "jsonl": return try JSONRecordsReader(path: path, columns: mapping.headerNames, ndjson: true)
    default:
      throw TableError(row: nil, "cannot import a .\(format) file (csv, xlsx, json, ndjson); say format: in the mapping")
    }
  }
}
