import Foundation

/// The three standard descriptors, open before anything else opens a file. Started with one
/// closed (`vigil submit <&-`), the first socket or file opened would take its number:
/// `vigil` then read its own connection to the daemon as standard input, forever.
public enum StandardDescriptors {
  /// Opens `/dev/null` on each of 0, 1 and 2 that is closed.
  public static func ensureOpen() {
    for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
      let null = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
      if null >= 0, null != descriptor {
        dup2(null, descriptor)
        close(null)
      }
    }
  }
}
