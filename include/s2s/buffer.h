// Buffer<T>: a move-only array in one backend's memory, released when it goes out of scope.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "s2s/backend.h"

namespace s2s {

template <typename T>
class Buffer {
 public:
  Buffer() = default;
  // Allocates n elements (uninitialised) in memory; throws Error when they cannot be had.
  Buffer(Memory& memory, std::size_t n) : memory_(&memory), size_(n) {
    if (n > 0) data_ = static_cast<T*>(memory.allocate(n * sizeof(T)));
  }
  ~Buffer() { reset(); }

  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept { swap(other); }
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      reset();
      swap(other);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void zero() {
    if (size_ > 0) memory_->zero(data_, size_ * sizeof(T));
  }
  // Copies host values in; values.size() must equal size().
  void upload(const std::vector<T>& values) { upload(values.data(), values.size()); }
  void upload(const T* values, std::size_t n) {
    require_size(n);
    if (n > 0) memory_->upload(data_, values, n * sizeof(T));
  }
  std::vector<T> download() const {
    std::vector<T> values(size_);
    if (size_ > 0) memory_->download(values.data(), data_, size_ * sizeof(T));
    return values;
  }

  void reset() noexcept {
    if (data_ != nullptr) memory_->release(data_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  void swap(Buffer& other) noexcept {
    std::swap(memory_, other.memory_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }
  void require_size(std::size_t n) const;

  Memory* memory_ = nullptr;
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace s2s

#include "s2s/error.h"

template <typename T>
void s2s::Buffer<T>::require_size(std::size_t n) const {
  if (n != size_)
    throw Error("Buffer upload: " + std::to_string(n) + " values given for a buffer of " +
                std::to_string(size_));
}
