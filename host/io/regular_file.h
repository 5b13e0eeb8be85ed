// Reading a file a user names, safely: only a regular file (after following links) of at most a
// given size is read, so a FIFO, a device such as /dev/zero or a folder is refused at once
// instead of blocking or reading without end.
#pragma once

#include <cstdint>
#include <string>

namespace s2s {

// The whole content of path. Throws Error "<what> <path>: ..." saying what is wrong and what is
// allowed when the path does not exist or cannot be read, is not a regular file (a FIFO, a
// device, a socket, a folder), or is larger than max_bytes.
std::string read_regular_file(const std::string& path, std::uint64_t max_bytes,
                              const std::string& what);

}  // namespace s2s
