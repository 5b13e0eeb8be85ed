// read_regular_file: stat (following links) before open, O_NONBLOCK so that a FIFO swapped in
// between stat and open cannot block, and fstat after open to check what was really opened.
#include "io/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "s2s/error.h"

namespace s2s {

namespace {
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}
}  // namespace

std::string read_regular_file(const std::string& path, std::uint64_t max_bytes,
                              const std::string& what) {
  const std::string prefix = what + " " + path + ": ";
  const auto check = [&](const struct stat& info) {
    if (!S_ISREG(info.st_mode))
      throw Error(prefix + "is " + kind_of(info.st_mode) +
                  " (allowed: a regular file, or a link to one)");
    if (static_cast<std::uint64_t>(info.st_size) > max_bytes)
      throw Error(prefix + "the file has " + std::to_string(info.st_size) +
                  " bytes (allowed: at most " + std::to_string(max_bytes) + ")");
  };
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    throw Error(prefix + "cannot open it: " + std::strerror(errno));
  check(info);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error(prefix + "cannot open it: " + std::strerror(errno));
  std::string bytes;
  try {
    if (::fstat(fd, &info) != 0) throw Error(prefix + "cannot read it: " + std::strerror(errno));
    check(info);
    bytes.resize(static_cast<std::size_t>(info.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::read(fd, &bytes[done], bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(prefix + "reading failed: " + std::strerror(errno));
      if (n == 0) break;  // the file shrank while being read: the parser reports what is missing
      done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    // A file that grew while being read is read up to its size at fstat: never beyond the limit.
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return bytes;
}

}  // namespace s2s
