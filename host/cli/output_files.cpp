// Checking output paths up front, and the per-epoch metrics log.
#include "cli/output_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "s2s/error.h"

namespace s2s::cli {

void check_writable_file(const std::string& path, const std::string& flag) {
  namespace fs = std::filesystem;
  require(!path.empty(), flag + ": the path is empty");
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec))
    throw Error(flag + " " + path + ": is a folder (give a file name inside it)");
  const fs::path folder = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::exists(folder, ec))
    throw Error(flag + " " + path + ": the folder '" + folder.string() + "' does not exist");
  if (!fs::is_directory(folder, ec))
    throw Error(flag + " " + path + ": '" + folder.string() + "' is not a folder");
  std::string probe = (folder / ".s2s-write-check-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0)
    throw Error(flag + " " + path + ": cannot create files in '" + folder.string() +
                "': " + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files,
                            const std::string& flag) {
  namespace fs = std::filesystem;
  std::vector<std::string> temporaries;
  const auto clean_up = [&] {
    for (const auto& t : temporaries) ::unlink(t.c_str());
  };
  for (const auto& [path, bytes] : files) {
    const fs::path p(path);
    const fs::path folder = p.has_parent_path() ? p.parent_path() : fs::path(".");
    std::string temporary = (folder / ("." + p.filename().string() + ".tmp-XXXXXX")).string();
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0) {
      const int err = errno;
      clean_up();
      throw Error(flag + " " + path + ": cannot create a file in '" + folder.string() +
                  "': " + std::strerror(err));
    }
    temporaries.push_back(temporary);
    std::size_t done = 0;
    int err = 0;
    while (done < bytes.size() && err == 0) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      else done += static_cast<std::size_t>(n);
    }
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    // mkstemp makes the file private (0600); an output file gets the usual 0644.
    if (err == 0 && ::chmod(temporary.c_str(), 0644) != 0) err = errno;
    if (err != 0) {
      clean_up();
      throw Error(flag + " " + path + ": writing failed: " + std::strerror(err));
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (::rename(temporaries[i].c_str(), files[i].first.c_str()) != 0) {
      const int err = errno;
      // The files renamed so far are complete; the rest are removed.
      for (std::size_t j = i; j < temporaries.size(); ++j) ::unlink(temporaries[j].c_str());
      throw Error(flag + " " + files[i].first + ": renaming its temporary file failed: " +
                  std::strerror(err));
    }
  }
}

void write_stdout(const std::string& text) {
  errno = 0;
  const std::size_t written = std::fwrite(text.data(), 1, text.size(), stdout);
  if (written != text.size() || std::fflush(stdout) != 0 || std::ferror(stdout))
    throw Error(std::string("writing to standard output failed: ") +
                (errno ? std::strerror(errno) : "unknown error"));
}

void MetricsLog::emit(nlohmann::ordered_json j) {
  if (path_.empty()) return;
  if (!out_.is_open()) {
    out_.open(path_, append_ ? std::ios::app : std::ios::trunc);
    require(out_.is_open(), "--metrics " + path_ + ": cannot open it for writing: " +
                                std::strerror(errno));
  }
  if (context_.is_object())
    for (auto it = context_.begin(); it != context_.end(); ++it) j[it.key()] = it.value();
  j["elapsed"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  out_ << j.dump() << '\n';
  out_.flush();
  require(out_.good(), "--metrics " + path_ + ": writing failed");
}

void MetricsLog::write(const StepEval& e) {
  nlohmann::ordered_json j;
  j["kind"] = "step";
  j["epoch"] = e.epoch;
  j["step"] = e.step;
  j["epoch_step"] = e.epoch_step;
  j["val_loss"] = e.val_loss;
  j["val_accuracy"] = e.val_accuracy;
  j["val_exact_match"] = e.val_exact_match;
  j["val_examples"] = e.examples;
  j["seconds"] = e.seconds;
  emit(std::move(j));
}

void MetricsLog::write(const EpochMetrics& m) {
  nlohmann::ordered_json j;
  j["kind"] = "epoch";
  j["epoch"] = m.epoch;
  j["loss"] = m.loss;
  j["accuracy"] = m.accuracy;
  if (!std::isnan(m.exact_match)) j["exact_match"] = m.exact_match;
  if (!std::isnan(m.val_loss)) {
    j["val_loss"] = m.val_loss;
    j["val_accuracy"] = m.val_accuracy;
    j["val_exact_match"] = m.val_exact_match;
  }
  j["seconds"] = m.seconds;
  j["examples_per_second"] = m.examples_per_second;
  j["lr"] = m.learning_rate;
  j["step"] = m.steps;
  if (m.partial) j["partial"] = true;
  emit(std::move(j));
}

}  // namespace s2s::cli
