// A heat map of a matrix of weights in [0, 1] (attention weights: one row per output step, one
// column per source position) as the bytes of an 8-bit RGB PNG, through libpng.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace s2s {

// Each cell is drawn as a square this many pixels wide; images stay under kMaxHeatmapPixels.
constexpr int kHeatmapCellPixels = 12;
constexpr std::int64_t kMaxHeatmapPixels = std::int64_t{1} << 26;

// The colour of weight w: white at 0 to dark blue (8, 48, 107) at 1, linearly per channel,
// rounded to the nearest integer; w is clamped into [0, 1].
std::array<std::uint8_t, 3> heat_colour(double w);

// PNG bytes of weights (rows x columns, every row the same length, at least one of each),
// cell_pixels x cell_pixels per cell, row 0 at the top, column 0 at the left. Throws Error for
// an empty or ragged matrix, a value that is not finite, cell_pixels < 1, or an image over
// kMaxHeatmapPixels pixels.
std::string png_heatmap(const std::vector<std::vector<double>>& weights,
                        int cell_pixels = kHeatmapCellPixels);

}  // namespace s2s
