// SPDX-License-Identifier: Apache-2.0

#include "common/toml_text.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TomlTextTest, NonAsciiIsFineInWholeLineComments) {
  EXPECT_FALSE(NonAsciiOutsideComments("# Zürich edge\n  # café\nname = \"edge-1\"\n"));
  EXPECT_FALSE(NonAsciiOutsideComments(""));
}

TEST(TomlTextTest, NonAsciiElsewhereNamesItsLine) {
  EXPECT_EQ(NonAsciiOutsideComments("a = 1\n[[r\xcf\xb8]]\n"), 2u);
  EXPECT_EQ(NonAsciiOutsideComments("name = \"Z\xc3\xbcrich\"\n"), 1u);
  EXPECT_EQ(NonAsciiOutsideComments("a = 1 # caf\xc3\xa9\n"), 1u);
  EXPECT_EQ(NonAsciiOutsideComments("# ok \xc3\xa9\nb = 2 \xe2\x80\x83\n"), 2u);
  // Inputs that made toml++ 3.3 reach __builtin_unreachable (found by the fuzzers).
  EXPECT_EQ(NonAsciiOutsideComments("[[p]]\nprefix =0\"20.0\xc8\xa4[\n"), 2u);
  EXPECT_EQ(NonAsciiOutsideComments("r = ++\"+++\xef\xbb\xbb+\n"), 1u);
  EXPECT_EQ(NonAsciiOutsideComments("[\"\"\";.0.2.*\"\\\\\xef\xbb\xbb\\\\"), 1u);
  // A '#' line inside a multi-line string is no comment (fuzz_serve_config, 2026-12-07).
  EXPECT_EQ(NonAsciiOutsideComments("\"\"\"\n# U`[\"\\\xef\xb1\xbf\x1d iwt\n"), 2u);
  EXPECT_EQ(NonAsciiOutsideComments("a = \'\'\'\n# caf\xc3\xa9\n\'\'\'\n"), 2u);
  EXPECT_FALSE(NonAsciiOutsideComments("# caf\xc3\xa9 before any string\na = \"\"\"x\"\"\"\n"));
}

}  // namespace
}  // namespace sluice
