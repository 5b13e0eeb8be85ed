// The PNG heat map writer: pixels filled on the host, encoded by libpng's simplified API into
// memory (the caller decides where the bytes go, so files can be written atomically).
#include "io/png_heatmap.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "s2s/error.h"

namespace s2s {

std::array<std::uint8_t, 3> heat_colour(double w) {
  static constexpr double kDark[3] = {8, 48, 107};
  w = std::clamp(w, 0.0, 1.0);
  std::array<std::uint8_t, 3> rgb{};
  for (int i = 0; i < 3; ++i)
    rgb[i] = static_cast<std::uint8_t>(std::lround(255.0 + (kDark[i] - 255.0) * w));
  return rgb;
}

std::string png_heatmap(const std::vector<std::vector<double>>& weights, int cell_pixels) {
  require(cell_pixels >= 1, "heat map: cell size is " + std::to_string(cell_pixels) +
                                " pixels (allowed: 1 or more)");
  require(!weights.empty() && !weights[0].empty(),
          "heat map: no weights to draw (at least one row and one column are needed)");
  const std::size_t columns = weights[0].size();
  for (std::size_t r = 0; r < weights.size(); ++r) {
    require(weights[r].size() == columns,
            "heat map: row " + std::to_string(r) + " has " + std::to_string(weights[r].size()) +
                " values, row 0 has " + std::to_string(columns) + " (rows must be equal)");
    for (std::size_t c = 0; c < columns; ++c)
      require(std::isfinite(weights[r][c]), "heat map: the weight at row " + std::to_string(r) +
                                                ", column " + std::to_string(c) +
                                                " is not a finite number");
  }
  const std::int64_t width = static_cast<std::int64_t>(columns) * cell_pixels;
  const std::int64_t height = static_cast<std::int64_t>(weights.size()) * cell_pixels;
  require(width * height <= kMaxHeatmapPixels,
          "heat map: " + std::to_string(width) + " x " + std::to_string(height) +
              " pixels is more than the " + std::to_string(kMaxHeatmapPixels) + " allowed");

  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width * height) * 3);
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x) {
      const auto rgb = heat_colour(weights[y / cell_pixels][x / cell_pixels]);
      std::copy(rgb.begin(), rgb.end(), pixels.begin() + (y * width + x) * 3);
    }

  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  // First call: the size needed; second: the bytes.
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr))
    throw Error(std::string("heat map: libpng could not encode the image: ") + image.message);
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&image, bytes.data(), &size, 0, pixels.data(), 0, nullptr))
    throw Error(std::string("heat map: libpng could not encode the image: ") + image.message);
  bytes.resize(size);
  return bytes;
}

}  // namespace s2s
