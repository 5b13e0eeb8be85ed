// Reading lines from a stream a user controls (a pair file, stdin) without letting one endless
// line (a file with no newline, /dev/zero piped in) take all memory.
#pragma once

#include <cstdint>
#include <istream>
#include <string>

namespace s2s {

// Reads up to the next '\n' (not kept) into line. Returns false at the end of the stream with
// nothing read. Throws Error "<where>the line is longer than N bytes (allowed: ...)" once a line
// exceeds max_bytes, before storing more than max_bytes.
bool read_bounded_line(std::istream& in, std::string& line, std::uint64_t max_bytes,
                       const std::string& where);

}  // namespace s2s
