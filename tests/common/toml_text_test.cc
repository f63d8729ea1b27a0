// SPDX-License-Identifier: Apache-2.0

#include "common/toml_text.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TomlTextTest, NonAsciiIsFineInStringsAndComments) {
  EXPECT_FALSE(NonAsciiOutsideStrings("name = \"Zürich\"  # café\n"));
  EXPECT_FALSE(NonAsciiOutsideStrings("name = 'Zürich'\n"));
  EXPECT_FALSE(NonAsciiOutsideStrings("name = \"\"\"\nZürich \\\" still \"\"\"\nnext = 1\n"));
  EXPECT_FALSE(NonAsciiOutsideStrings("name = '''\nZürich\n'''\n"));
  EXPECT_FALSE(NonAsciiOutsideStrings("escaped = \"a\\\"é\"\n"));
}

TEST(TomlTextTest, NonAsciiElsewhereNamesItsLine) {
  EXPECT_EQ(NonAsciiOutsideStrings("a = 1\n[[r\xcf\xb8]]\n"), 2u);
  EXPECT_EQ(NonAsciiOutsideStrings("a = \"x\" \xc2\xa0\n"), 1u);
  EXPECT_EQ(NonAsciiOutsideStrings("# ok é\nb = 2 \xe2\x80\x83\n"), 2u);
  // A one-line string ends at its line: what follows is plain text again.
  EXPECT_EQ(NonAsciiOutsideStrings("a = \"open\nz\xc3\xa9 = 1\n"), 2u);
  EXPECT_EQ(NonAsciiOutsideStrings("s = \"\"\"\n\"\"\"\n\xc3\xa9\n"), 3u);
  // A quote where no key or value begins opens no string (toml++ reads on as a bare value).
  EXPECT_EQ(NonAsciiOutsideStrings("[[p]]\nprefix =0\"20.0\xc8\xa4[\n"), 2u);
  EXPECT_EQ(NonAsciiOutsideStrings("r = ++\"+++\xef\xbb\xbb+\n"), 1u);
  EXPECT_FALSE(NonAsciiOutsideStrings("a = [\n  \"\xc3\xa9\",\n  'x\xc3\xa9' ]\n\"k\xc3\xa9y\" = 1\nt = { n = \"\xc3\xa9\" }\n"));
}

}  // namespace
}  // namespace sluice
