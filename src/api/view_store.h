// SPDX-License-Identifier: Apache-2.0
// ViewStore: the dashboard's saved views ("profiles" in nfsen): a named nfdump filter that
// the web UI shows with its own graphs and top lists. Kept in DATA_DIR/views.json,
// replaced atomically on every change (common/atomic_file.h). docs/api.md has the routes.
//
// Thread-safety: every method may be called from any thread (one mutex).

#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "common/result.h"

namespace sluice::api {

inline constexpr std::string_view kViewFileName = "views.json";
inline constexpr std::size_t kMaxViewNameBytes = 64;
inline constexpr std::size_t kMaxViewDescriptionBytes = 1024;
inline constexpr std::size_t kMaxViewFilterBytes = 4096;
inline constexpr std::size_t kMaxViews = 1000;

// What a client sets.
struct ViewFields {
  std::string name;         // 1 to 64 bytes of UTF-8, no control characters, unique
  std::string filter;       // an nfdump filter that parses; "" = every flow
  std::string description;  // free text, at most 1024 bytes
};

struct SavedView {
  std::string id;  // "v1", "v2", ...: never reused
  ViewFields fields;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

// Checks `fields` as Create/Update do: a 400 bad_parameter naming the member, or a 400
// bad_filter with the column for a filter that does not parse.
ApiResult<bool> ValidateView(const ViewFields& fields);

// {"id","name","filter","description","created_ms","updated_ms"}, as the API and the file
// hold a view.
std::string ViewToJson(const SavedView& view);

class ViewStore {
 public:
  // Reads DATA_DIR/views.json if it exists; a corrupt file is an error naming it.
  static Result<std::unique_ptr<ViewStore>> Open(std::string data_dir);

  std::vector<SavedView> List() const;
  std::optional<SavedView> Find(std::string_view id) const;

  // 400 for invalid fields, 409 "conflict" for a name another view has, 413 past
  // kMaxViews, 500 when the file cannot be written (then nothing changed).
  ApiResult<SavedView> Create(ViewFields fields, std::int64_t now_ms);
  // As Create; 404 for an unknown id.
  ApiResult<SavedView> Update(std::string_view id, ViewFields fields, std::int64_t now_ms);
  // 404 for an unknown id.
  ApiResult<bool> Delete(std::string_view id);

 private:
  explicit ViewStore(std::string path) : path_(std::move(path)) {}

  // Writes `views` with `next_id`; the members change only when that worked.
  ApiResult<bool> Save(std::vector<SavedView> views, std::uint64_t next_id);
  bool NameTaken(std::string_view name, std::string_view except_id) const;

  const std::string path_;
  mutable std::mutex mutex_;
  std::vector<SavedView> views_;
  std::uint64_t next_id_ = 1;
};

}  // namespace sluice::api
