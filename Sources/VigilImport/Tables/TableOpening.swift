import Foundation

/// A reader for a file by its mapping's `format`, else by the file's extension: what
/// `vigil import` and the spool source both open files with.
public enum TableOpening {
  public static func reader(for path: String, mapping: Mapping) throws -> any TableReader {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
      throw TableError(row: nil, "it is a directory: give the files in it")
    }
    let named = (path as NSString).pathExtension.lowercased()
    let format = mapping.format ?? named
    do {
      return try open(path, as: format, mapping: mapping)
    } catch let error as TableError where error.row == nil {
      // Said with what chose the reader: the mapping's format, or the file's name.
      let zip = error.message.hasPrefix("the file is a zip archive")
      if let given = mapping.format, given != named, !(given == "ndjson" && named == "jsonl") {
        throw TableError(
          row: nil,
          error.message + " (the mapping \(mapping.name) reads \(given) files, its format:; "
            + (named.isEmpty ? "is it this file's mapping?)" : "this file is named .\(named): is it this file's mapping?)"))
      }
      if zip, mapping.format == nil { throw TableError(row: nil, error.message + ": name it .xlsx") }
      throw error
    }
  }

  private static func open(_ path: String, as format: String, mapping: Mapping) throws -> any TableReader {
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
