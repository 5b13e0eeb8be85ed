// Refusing a command whose flags name one file twice where one of the names writes it
// (`train --data d.tsv --out d.tsv` would replace the training data with a checkpoint), however
// the file is named: a symlink, a "./" prefix, "..", a hard link.
#pragma once

#include <string>
#include <vector>

namespace s2s::cli {

struct PathUse {
  std::string flag;  // as the user wrote it ("--out"), or a description ("--out's best copy")
  std::string path;
  bool written = false;  // the command writes (creates or replaces) it
};

// True when a and b name the same file: the same device and inode when both exist (links
// followed), else the same absolute path after resolving the existing folders (a file that
// does not exist yet has one name).
bool same_file(const std::string& a, const std::string& b);

// Throws Error "<flag> <path> and <flag> <path> name the same file ..." for the first two uses
// (empty paths skipped) that name one file where at least one of them writes it. Two reads of
// one file are fine.
void require_distinct_files(const std::vector<PathUse>& uses);

}  // namespace s2s::cli
