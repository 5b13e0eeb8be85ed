// Host tensors: an owning row-major array with a shape, and a non-owning view of one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "s2s/error.h"

namespace s2s {

using Shape = std::vector<std::int64_t>;

inline std::int64_t element_count(const Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1},
                         [](std::int64_t a, std::int64_t b) { return a * b; });
}

inline std::string shape_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A view of someone else's row-major host array.
template <typename T>
struct TensorView {
  T* data = nullptr;
  Shape shape;
  std::int64_t size() const { return element_count(shape); }
  T& operator[](std::int64_t i) const { return data[i]; }
};

// An owning row-major host array.
template <typename T>
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, T fill = T{})
      : shape_(std::move(shape)), data_(static_cast<std::size_t>(checked_count(shape_)), fill) {}
  Tensor(Shape shape, std::vector<T> values) : shape_(std::move(shape)), data_(std::move(values)) {
    if (static_cast<std::int64_t>(data_.size()) != checked_count(shape_))
      throw Error("Tensor: " + std::to_string(data_.size()) + " values do not fill shape " +
                  shape_string(shape_));
  }

  const Shape& shape() const { return shape_; }
  std::int64_t dim(std::size_t i) const { return shape_.at(i); }
  std::int64_t size() const { return static_cast<std::int64_t>(data_.size()); }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  std::vector<T>& values() { return data_; }
  const std::vector<T>& values() const { return data_; }
  T& operator[](std::int64_t i) { return data_[static_cast<std::size_t>(i)]; }
  const T& operator[](std::int64_t i) const { return data_[static_cast<std::size_t>(i)]; }
  TensorView<T> view() { return {data_.data(), shape_}; }
  TensorView<const T> view() const { return {data_.data(), shape_}; }

 private:
  static std::int64_t checked_count(const Shape& shape) {
    for (auto d : shape)
      if (d < 0) throw Error("Tensor: negative dimension in shape " + shape_string(shape));
    return element_count(shape);
  }
  Shape shape_;
  std::vector<T> data_;
};

}  // namespace s2s
