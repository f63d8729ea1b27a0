// SPDX-License-Identifier: Apache-2.0

#include "enrich/prefix_map.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <utility>

// toml++ reports parse errors as values (toml::parse_result) instead of throwing.
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include "common/toml_text.h"

namespace sluice::enrich {
namespace {

constexpr std::size_t kMaxIdLength = 64;

std::uint64_t High(const flow::IpAddress& address) {
  std::uint64_t value = 0;
  for (std::size_t idx = 0; idx < 8; ++idx) {
    value = value << 8 | address.bytes[idx];
  }
  return value;
}

std::uint64_t Low(const flow::IpAddress& address) {
  std::uint64_t value = 0;
  for (std::size_t idx = 8; idx < 16; ++idx) {
    value = value << 8 | address.bytes[idx];
  }
  return value;
}

// The mask of the first `bits` bits (0..64) of a 64-bit half.
std::uint64_t LeadingMask(unsigned bits) {
  return bits == 0 ? 0 : bits >= 64 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (64 - bits);
}

Error LineError(std::string_view file_name, std::size_t line, const std::string& message) {
  std::string text(file_name);
  if (line != 0) {
    text += ":" + std::to_string(line);
  }
  return Error(ErrorCode::kInvalidArgument, text + ": " + message);
}

// The columns a map may have, by every name they go by.
enum class Column : std::uint8_t { kPrefix, kSubscriber, kReseller, kSite, kCir };

std::optional<Column> ColumnByName(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, Column>, 9> kNames{{
      {"prefix", Column::kPrefix},
      {"subscriber_id", Column::kSubscriber},
      {"subscriber", Column::kSubscriber},
      {"reseller_id", Column::kReseller},
      {"reseller", Column::kReseller},
      {"nas_id", Column::kSite},
      {"site", Column::kSite},
      {"cir", Column::kCir},
      {"cir_bps", Column::kCir},
  }};
  for (const auto& [known, column] : kNames) {
    if (known == name) {
      return column;
    }
  }
  return std::nullopt;
}

// Applies one value of an entry; returns an error message, or "" when it is fine.
std::string ApplyValue(Column column, std::string_view value, PrefixEntry& entry) {
  switch (column) {
    case Column::kPrefix: {
      const auto prefix = flow::IpPrefix::Parse(value);
      if (!prefix) {
        return "prefix '" + std::string(value) +
               "' is not ADDR/LEN (e.g. 100.64.1.0/24 or 2001:db8:1::/48)";
      }
      entry.prefix = *prefix;
      return "";
    }
    case Column::kCir: {
      if (value.empty()) {
        return "";
      }
      const auto rate = ParseBitRate(value);
      if (!rate) {
        return "cir '" + std::string(value) + "' is not a rate in bits/s like 100M or 2500000";
      }
      entry.info.cir_bps = *rate;
      return "";
    }
    case Column::kSubscriber:
    case Column::kReseller:
    case Column::kSite: {
      if (!value.empty() && !IsValidId(value)) {
        return "'" + std::string(value) +
               "' is not an id: 1 to 64 of A-Z a-z 0-9 . _ : @ / -";
      }
      std::string& target = column == Column::kSubscriber ? entry.info.subscriber
                            : column == Column::kReseller ? entry.info.reseller
                                                          : entry.info.site;
      target = std::string(value);
      return "";
    }
  }
  return "";
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Splits one CSV line into fields ("a,b" quoted, "" for a quote inside). Returns false for
// an unterminated quote.
bool SplitCsvLine(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  std::size_t pos = 0;
  for (;;) {
    field.clear();
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) {
      ++pos;
    }
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < line.size()) {
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            field.push_back('"');
            pos += 2;
            continue;
          }
          ++pos;
          closed = true;
          break;
        }
        field.push_back(line[pos++]);
      }
      if (!closed) {
        return false;
      }
      const std::size_t comma = line.find(',', pos);
      if (!Trim(line.substr(pos, comma == std::string_view::npos ? comma : comma - pos)).empty()) {
        return false;  // text after the closing quote
      }
      pos = comma;
    } else {
      const std::size_t comma = line.find(',', pos);
      field = std::string(Trim(line.substr(pos, comma == std::string_view::npos ? comma : comma - pos)));
      pos = comma;
    }
    fields.push_back(field);
    if (pos == std::string_view::npos) {
      return true;
    }
    ++pos;  // past the comma
  }
}

}  // namespace

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == ':' || ch == '@' || ch == '/' || ch == '-';
  });
}

std::optional<std::uint64_t> ParseBitRate(std::string_view text) {
  std::uint64_t multiplier = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        multiplier = 1'000;
        break;
      case 'm':
      case 'M':
        multiplier = 1'000'000;
        break;
      case 'g':
      case 'G':
        multiplier = 1'000'000'000;
        break;
      case 't':
      case 'T':
        multiplier = 1'000'000'000'000;
        break;
      default:
        break;
    }
  }
  if (multiplier != 1) {
    text.remove_suffix(1);
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() ||
      value > std::numeric_limits<std::uint64_t>::max() / multiplier) {
    return std::nullopt;
  }
  return value * multiplier;
}

Result<PrefixMap> PrefixMap::Build(std::vector<PrefixEntry> entries) {
  PrefixMap map;
  map.entries_ = std::move(entries);
  std::map<std::uint8_t, LengthTable> by_length;
  for (std::size_t idx = 0; idx < map.entries_.size(); ++idx) {
    const flow::IpPrefix& prefix = map.entries_[idx].prefix;
    LengthTable& table = by_length[prefix.length()];
    table.length = prefix.length();
    table.keys.push_back(Key{High(prefix.network()), Low(prefix.network()),
                             static_cast<std::uint32_t>(idx)});
  }
  for (auto& [length, table] : by_length) {
    table.mask_high = LeadingMask(std::min<unsigned>(length, 64));
    table.mask_low = LeadingMask(length > 64 ? length - 64u : 0u);
    std::sort(table.keys.begin(), table.keys.end(), [](const Key& a, const Key& b) {
      return a.high != b.high ? a.high < b.high : a.low < b.low;
    });
    for (std::size_t idx = 1; idx < table.keys.size(); ++idx) {
      if (table.keys[idx].high == table.keys[idx - 1].high &&
          table.keys[idx].low == table.keys[idx - 1].low) {
        return tl::unexpected(Error(
            ErrorCode::kInvalidArgument,
            "prefix " + map.entries_[table.keys[idx].entry].prefix.ToString() + " is given twice"));
      }
    }
    IndexTable(table);
    map.tables_.push_back(std::move(table));
  }
  std::reverse(map.tables_.begin(), map.tables_.end());  // longest first
  return map;
}

std::uint32_t PrefixMap::BucketOf(const LengthTable& table, std::uint64_t high, std::uint64_t low) {
  const unsigned at = table.shared_bits;  // <= 112
  if (at + 16 <= 64) {
    return static_cast<std::uint32_t>((high >> (48 - at)) & 0xFFFF);
  }
  if (at >= 64) {
    return static_cast<std::uint32_t>((low >> (112 - at)) & 0xFFFF);
  }
  return static_cast<std::uint32_t>(((high << (at - 48)) | (low >> (112 - at))) & 0xFFFF);
}

void PrefixMap::IndexTable(LengthTable& table) {
  constexpr std::size_t kIndexFrom = 256;  // keys; smaller tables are searched whole
  if (table.keys.size() < kIndexFrom) {
    return;
  }
  const Key& first = table.keys.front();
  const Key& last = table.keys.back();
  unsigned shared = first.high != last.high
                        ? static_cast<unsigned>(__builtin_clzll(first.high ^ last.high))
                        : 64u + (first.low != last.low ? static_cast<unsigned>(__builtin_clzll(first.low ^ last.low)) : 64u);
  // The slice ends at the prefix's last bit at most (beyond it every key holds zeros).
  shared = std::min({shared, 112u, table.length >= 16 ? table.length - 16u : 0u});
  table.shared_bits = static_cast<std::uint8_t>(shared);
  table.shared_mask_high = LeadingMask(std::min(shared, 64u));
  table.shared_mask_low = LeadingMask(shared > 64 ? shared - 64u : 0u);
  table.buckets.assign(65537, 0);
  for (const Key& key : table.keys) {
    ++table.buckets[BucketOf(table, key.high, key.low) + 1];
  }
  for (std::size_t idx = 1; idx < table.buckets.size(); ++idx) {
    table.buckets[idx] += table.buckets[idx - 1];  // sorted keys: each bucket is one run
  }
}

std::uint32_t PrefixMap::FindIndex(const flow::IpAddress& address) const {
  if (tables_.empty()) {
    return kNoEntry;
  }
  const std::uint64_t high = High(address);
  const std::uint64_t low = Low(address);
  for (const LengthTable& table : tables_) {
    const std::uint64_t want_high = high & table.mask_high;
    const std::uint64_t want_low = low & table.mask_low;
    auto begin = table.keys.begin();
    auto end = table.keys.end();
    if (!table.buckets.empty()) {
      const Key& first = table.keys.front();
      if (((want_high ^ first.high) & table.shared_mask_high) != 0 ||
          ((want_low ^ first.low) & table.shared_mask_low) != 0) {
        continue;  // outside what every key of this length shares
      }
      const std::uint32_t bucket = BucketOf(table, want_high, want_low);
      end = table.keys.begin() + table.buckets[bucket + 1];
      begin = table.keys.begin() + table.buckets[bucket];
      if (begin == end) {
        continue;
      }
    }
    const auto found = std::lower_bound(
        begin, end, std::pair{want_high, want_low},
        [](const Key& key, const std::pair<std::uint64_t, std::uint64_t>& wanted) {
          return key.high != wanted.first ? key.high < wanted.first : key.low < wanted.second;
        });
    if (found != end && found->high == want_high && found->low == want_low) {
      return found->entry;
    }
  }
  return kNoEntry;
}

const PrefixEntry* PrefixMap::Find(const flow::IpAddress& address) const {
  const std::uint32_t idx = FindIndex(address);
  return idx == kNoEntry ? nullptr : &entries_[idx];
}

Result<PrefixMap> PrefixMap::ParseCsv(std::string_view text, std::string_view file_name) {
  std::vector<Column> columns;
  std::vector<PrefixEntry> entries;
  std::vector<std::string> fields;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = Trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (!SplitCsvLine(line, fields)) {
      return tl::unexpected(LineError(file_name, line_no, "unterminated or misplaced quote"));
    }
    if (columns.empty()) {
      bool has_prefix = false;
      bool has_subscriber = false;
      for (const std::string& name : fields) {
        const auto column = ColumnByName(name);
        if (!column) {
          return tl::unexpected(LineError(
              file_name, line_no,
              "unknown column '" + name +
                  "' in the header (known: prefix, subscriber_id, reseller_id, nas_id, site, cir)"));
        }
        if (std::find(columns.begin(), columns.end(), *column) != columns.end()) {
          return tl::unexpected(LineError(file_name, line_no, "column '" + name + "' given twice"));
        }
        has_prefix |= *column == Column::kPrefix;
        has_subscriber |= *column == Column::kSubscriber;
        columns.push_back(*column);
      }
      if (!has_prefix || !has_subscriber) {
        return tl::unexpected(LineError(
            file_name, line_no,
            "the header must name the columns, at least prefix and subscriber_id "
            "(e.g. prefix,subscriber_id,reseller_id,nas_id,cir)"));
      }
      continue;
    }
    if (fields.size() != columns.size()) {
      return tl::unexpected(LineError(file_name, line_no,
                                      std::to_string(fields.size()) + " fields, the header has " +
                                          std::to_string(columns.size())));
    }
    PrefixEntry entry;
    for (std::size_t idx = 0; idx < fields.size(); ++idx) {
      if (std::string message = ApplyValue(columns[idx], fields[idx], entry); !message.empty()) {
        return tl::unexpected(LineError(file_name, line_no, message));
      }
    }
    if (entry.info.subscriber.empty()) {
      return tl::unexpected(LineError(file_name, line_no, "subscriber_id is empty"));
    }
    entries.push_back(std::move(entry));
  }
  Result<PrefixMap> built = Build(std::move(entries));
  if (!built) {
    return tl::unexpected(LineError(file_name, 0, std::string(built.error().Message())));
  }
  return built;
}

Result<PrefixMap> PrefixMap::ParseToml(std::string_view text, std::string_view file_name) {
  if (const auto line = NonAsciiOutsideComments(text)) {
    return tl::unexpected(
        LineError(file_name, *line, "a non-ASCII character: use ASCII outside whole-line # comments"));
  }
  toml::parse_result parsed = toml::parse(text, file_name);
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    return tl::unexpected(LineError(file_name, error.source().begin.line,
                                    std::string(error.description())));
  }
  std::vector<PrefixEntry> entries;
  for (const auto& [key, node] : parsed.table()) {
    const toml::array* array = node.as_array();
    if (key.str() != "prefix" || array == nullptr || !array->is_array_of_tables()) {
      return tl::unexpected(LineError(file_name, node.source().begin.line,
                                      "expected only [[prefix]] tables, found '" +
                                          std::string(key.str()) + "'"));
    }
    for (const toml::node& element : *array) {
      const toml::table& table = *element.as_table();
      const std::size_t line = table.source().begin.line;
      PrefixEntry entry;
      bool has_prefix = false;
      for (const auto& [name, value] : table) {
        const auto column = ColumnByName(name.str());
        if (!column) {
          return tl::unexpected(LineError(file_name, value.source().begin.line,
                                          "unknown key '" + std::string(name.str()) + "'"));
        }
        std::string text_value;
        if (const auto* integer = value.as_integer(); integer != nullptr && *column == Column::kCir &&
                                                      integer->get() >= 0) {
          text_value = std::to_string(integer->get());
        } else if (const auto* string = value.as_string(); string != nullptr) {
          text_value = string->get();
        } else {
          return tl::unexpected(LineError(file_name, value.source().begin.line,
                                          std::string(name.str()) + ": expected a string"));
        }
        if (std::string message = ApplyValue(*column, text_value, entry); !message.empty()) {
          return tl::unexpected(LineError(file_name, value.source().begin.line, message));
        }
        has_prefix |= *column == Column::kPrefix;
      }
      if (!has_prefix || entry.info.subscriber.empty()) {
        return tl::unexpected(
            LineError(file_name, line, "a [[prefix]] needs prefix and subscriber_id"));
      }
      entries.push_back(std::move(entry));
    }
  }
  Result<PrefixMap> built = Build(std::move(entries));
  if (!built) {
    return tl::unexpected(LineError(file_name, 0, std::string(built.error().Message())));
  }
  return built;
}

Result<PrefixMap> PrefixMap::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return tl::unexpected(Error(ErrorCode::kNotFound, "cannot read the prefix map " + path));
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const bool is_toml = path.size() >= 5 && path.compare(path.size() - 5, 5, ".toml") == 0;
  return is_toml ? ParseToml(text, path) : ParseCsv(text, path);
}

}  // namespace sluice::enrich
