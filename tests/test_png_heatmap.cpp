// The PNG heat map writer: what it writes is decoded again with libpng and every cell's pixels
// are checked against the colour of its weight; bad matrices get errors.
#include <gtest/gtest.h>

#include <png.h>

#include <cmath>
#include <string>
#include <vector>

#include "expect_error.h"
#include "io/png_heatmap.h"

namespace s2s {
namespace {

struct Decoded {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
};

Decoded decode_png(const std::string& bytes) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  EXPECT_TRUE(png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
      << image.message;
  image.format = PNG_FORMAT_RGB;
  Decoded d;
  d.width = static_cast<int>(image.width);
  d.height = static_cast<int>(image.height);
  d.rgb.resize(PNG_IMAGE_SIZE(image));
  EXPECT_TRUE(png_image_finish_read(&image, nullptr, d.rgb.data(), 0, nullptr)) << image.message;
  return d;
}

TEST(PngHeatmap, DecodesToTheWeightsColoursCellByCell) {
  const std::vector<std::vector<double>> weights{{0.0, 1.0, 0.25}, {0.5, 0.75, 0.1}};
  const int cell = 3;
  const std::string bytes = png_heatmap(weights, cell);
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  const Decoded d = decode_png(bytes);
  ASSERT_EQ(d.width, 3 * cell);
  ASSERT_EQ(d.height, 2 * cell);
  for (int y = 0; y < d.height; ++y)
    for (int x = 0; x < d.width; ++x) {
      const auto want = heat_colour(weights[y / cell][x / cell]);
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(d.rgb[(static_cast<std::size_t>(y) * d.width + x) * 3 + c], want[c])
            << "pixel (" << x << ", " << y << ") channel " << c;
    }
}

TEST(PngHeatmap, ColourRampEndsAndClamping) {
  EXPECT_EQ(heat_colour(0.0), (std::array<std::uint8_t, 3>{255, 255, 255}));
  EXPECT_EQ(heat_colour(1.0), (std::array<std::uint8_t, 3>{8, 48, 107}));
  EXPECT_EQ(heat_colour(0.5), (std::array<std::uint8_t, 3>{132, 152, 181}));
  EXPECT_EQ(heat_colour(-3.0), heat_colour(0.0));
  EXPECT_EQ(heat_colour(7.0), heat_colour(1.0));
}

TEST(PngHeatmap, BadMatricesSayWhy) {
  EXPECT_ERROR_WITH(png_heatmap({}), "no weights");
  EXPECT_ERROR_WITH(png_heatmap({{}}), "no weights");
  EXPECT_ERROR_WITH(png_heatmap({{0.1, 0.2}, {0.3}}), "row 1 has 1 values, row 0 has 2");
  EXPECT_ERROR_WITH(png_heatmap({{0.1, std::nan("")}}), "row 0, column 1", "not a finite");
  EXPECT_ERROR_WITH(png_heatmap({{0.1}}, 0), "cell size is 0");
  EXPECT_ERROR_WITH(png_heatmap({std::vector<double>(100000, 0.5)}, 100), "pixels is more than");
}

}  // namespace
}  // namespace s2s
