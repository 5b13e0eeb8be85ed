// `predict --raw` output: a model's output ids as text a person can read and a program can parse
// (docs/CONVENTIONS.md, "predict --raw").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "s2s/vocab.h"

namespace s2s::cli {

// The ids up to the first end token (which ends the line and is not shown). The pad and start
// tokens appear as <pad> and <s>, an id outside the vocabulary as <?id>; a character that is not
// printable (a control character, a private-use code point, an invisible format character) as
// <U+XXXX>; so that these forms cannot be confused with text, a literal '<' is written \< and a
// literal backslash \\. With numbers (progression models) each id is its class number, and the
// items are separated by spaces, as `s2s gen` writes progression targets.
std::string raw_text(const Vocabulary& vocab, const std::vector<std::int32_t>& ids, bool numbers);

}  // namespace s2s::cli
