// Which devices a list of CUDA architectures covers: plain string logic, compiled in every
// build so that it is tested on machines without a GPU.
#include <cctype>
#include <sstream>
#include <string>

#include "cuda/cuda_devices.h"

#ifndef S2S_CUDA_ARCHITECTURES
#define S2S_CUDA_ARCHITECTURES ""
#endif

namespace s2s {

std::string compiled_cuda_architectures() {
  // CMake passes the list with ',' for ';' (a ';' would split the compile definition).
  std::string list = S2S_CUDA_ARCHITECTURES;
  for (char& c : list)
    if (c == ',') c = ';';
  return list;
}

bool cuda_architectures_cover(const std::string& architectures, int major, int minor) {
  const int device = major * 10 + minor;
  std::stringstream entries(architectures);
  std::string entry;
  while (std::getline(entries, entry, ';')) {
    if (entry.empty()) continue;
    if (entry == "all" || entry == "all-major" || entry == "native") return true;
    std::size_t digits = 0;
    while (digits < entry.size() && std::isdigit(static_cast<unsigned char>(entry[digits])))
      ++digits;
    if (digits == 0) continue;
    const int arch = std::stoi(entry.substr(0, digits));
    std::string rest = entry.substr(digits);
    char variant = 0;  // 'a': this exact capability only; 'f': this family (same major)
    if (!rest.empty() && (rest[0] == 'a' || rest[0] == 'f')) {
      variant = rest[0];
      rest = rest.substr(1);
    }
    const bool sass = rest.empty() || rest == "-real";
    const bool ptx = rest.empty() || rest == "-virtual";
    if (!sass && !ptx) continue;
    const int arch_major = arch / 10;
    const int arch_minor = arch % 10;
    if (variant == 'a') {
      if (device == arch) return true;
    } else if (variant == 'f') {
      if (major == arch_major && minor >= arch_minor) return true;
    } else {
      if (sass && major == arch_major && minor >= arch_minor) return true;
      if (ptx && device >= arch) return true;
    }
  }
  return false;
}

}  // namespace s2s
