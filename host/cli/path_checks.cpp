// Two names, one file: decided by device and inode where the file exists, by the resolved path
// where it does not yet.
#include "cli/path_checks.h"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "s2s/error.h"

namespace s2s::cli {

namespace {
namespace fs = std::filesystem;

// The path with its folder resolved (symlinks, "." and ".." gone) and its last part kept, which
// is where a file that does not exist yet would be created. Falls back to the lexical form.
std::string resolved_path(const std::string& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(fs::path(path), ec);
  if (ec) return fs::path(path).lexically_normal().string();
  const fs::path canonical = fs::weakly_canonical(absolute, ec);
  if (ec) return absolute.lexically_normal().string();
  return canonical.string();
}
}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  const bool a_exists = ::stat(a.c_str(), &sa) == 0;
  const bool b_exists = ::stat(b.c_str(), &sb) == 0;
  if (a_exists && b_exists) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (a_exists != b_exists) return false;  // one exists, the other would be created elsewhere
  return resolved_path(a) == resolved_path(b);
}

void require_distinct_files(const std::vector<PathUse>& uses) {
  for (std::size_t i = 0; i < uses.size(); ++i)
    for (std::size_t j = i + 1; j < uses.size(); ++j) {
      const PathUse& a = uses[i];
      const PathUse& b = uses[j];
      if (a.path.empty() || b.path.empty() || (!a.written && !b.written)) continue;
      if (!same_file(a.path, b.path)) continue;
      const PathUse& writer = a.written ? a : b;
      const PathUse& other = a.written ? b : a;
      throw Error(a.flag + " " + a.path + " and " + b.flag + " " + b.path +
                  " name the same file: " + writer.flag + " would " +
                  (other.written ? "write over what " + other.flag + " writes"
                                 : "replace what " + other.flag + " reads") +
                  " (give each of them its own file)");
    }
}

}  // namespace s2s::cli
