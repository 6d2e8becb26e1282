import Foundation

/// Memory of its own mapping, returned to the system when freed: for the console index's
/// chunks (megabytes each, one made and one freed every few thousand alerts once the index
/// is full). Through `malloc`, the first large block freed raised glibc's threshold for
/// mapping large blocks, later chunks came from the heap, and the chunks freed there stayed
/// as holes: past the index's limit the daemon's RSS grew by about 40 bytes a report more
/// than with the threshold fixed (`MALLOC_MMAP_THRESHOLD_`, 5 million reports; docs/benchmarks.md).
enum MappedMemory {
  static func allocate<Element>(_: Element.Type, capacity: Int) -> UnsafeMutableBufferPointer<Element> {
    let bytes = max(capacity, 1) * MemoryLayout<Element>.stride
    let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    guard let address, address != MAP_FAILED else { fatalError("out of memory: mmap of \(bytes) bytes failed") }
    return UnsafeMutableBufferPointer(start: address.bindMemory(to: Element.self, capacity: capacity), count: capacity)
  }

  static func deallocate<Element>(_ buffer: UnsafeMutableBufferPointer<Element>) {
    guard let base = buffer.baseAddress else { return }
    munmap(UnsafeMutableRawPointer(base), max(buffer.count, 1) * MemoryLayout<Element>.stride)
  }
}
