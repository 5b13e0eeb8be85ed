// The PNG heat map writer: what it writes is decoded again with libpng and every cell's pixels
// are checked against the colour of its weight; bad matrices get errors. And predict's
// attention map files (a PNG per example and one JSON), written all together or not at all.
#include <gtest/gtest.h>

#include <png.h>

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/attention_maps.h"
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

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(AttentionMapFiles, APngPerExampleAndTheNumbersInOneJson) {
  namespace fs = std::filesystem;
  std::string dir_template = (fs::temp_directory_path() / "s2s_maps_XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir_template.data()), nullptr);
  const fs::path dir(dir_template);
  std::vector<cli::AttentionMap> maps(2);
  maps[0] = {1, {"1", "2", "+"}, {"3", "</s>"}, {{0.2, 0.3, 0.5}, {1.0, 0.0, 0.0}}};
  maps[1] = {3, {"7"}, {"</s>"}, {{1.0}}};
  const std::string file = (dir / "maps.png").string();
  cli::write_attention_maps(file, maps);

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"maps-1.png", "maps-3.png", "maps.json"}));
  const Decoded first = decode_png(read_all(dir / "maps-1.png"));
  EXPECT_EQ(first.width, 3 * kHeatmapCellPixels);
  EXPECT_EQ(first.height, 2 * kHeatmapCellPixels);
  const Decoded second = decode_png(read_all(dir / "maps-3.png"));
  EXPECT_EQ(second.width, kHeatmapCellPixels);
  const auto json = nlohmann::json::parse(read_all(dir / "maps.json"));
  ASSERT_EQ(json.at("examples").size(), 2u);
  EXPECT_EQ(json["examples"][0]["input"], 1);
  EXPECT_EQ(json["examples"][0]["output"], (std::vector<std::string>{"3", "</s>"}));
  EXPECT_EQ(json["examples"][0]["weights"].get<std::vector<std::vector<double>>>(),
            maps[0].weights);
  EXPECT_EQ(json["examples"][1]["input"], 3);

  // A map that cannot be drawn (a NaN weight): an error, and the files are as they were.
  maps[1].weights = {{std::nan("")}};
  maps[0].weights = {{0.0, 0.0, 1.0}, {0.0, 1.0, 0.0}};
  EXPECT_ERROR_WITH(cli::write_attention_maps(file, maps), "not a finite number");
  EXPECT_EQ(nlohmann::json::parse(read_all(dir / "maps.json"))["examples"][0]["weights"]
                .get<std::vector<std::vector<double>>>(),
            (std::vector<std::vector<double>>{{0.2, 0.3, 0.5}, {1.0, 0.0, 0.0}}));
  // Into a folder that does not exist: an error naming the flag.
  maps[1].weights = {{1.0}};
  EXPECT_ERROR_WITH(cli::write_attention_maps((dir / "no" / "m.png").string(), maps),
                    "--attention-map");
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++count;
  EXPECT_EQ(count, 3u) << "temporary files were left behind";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace s2s
