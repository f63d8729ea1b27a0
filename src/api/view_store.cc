// SPDX-License-Identifier: Apache-2.0

#include "api/view_store.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/json_text.h"
#include "common/atomic_file.h"
#include "query/filter.h"

namespace sluice::api {
namespace {

using nlohmann::json;

constexpr int kFileVersion = 1;

// UTF-8 by its lead and continuation bytes, without control characters.
bool IsPrintableUtf8(std::string_view text) {
  for (std::size_t idx = 0; idx < text.size();) {
    const auto lead = static_cast<unsigned char>(text[idx]);
    std::size_t extra = 0;
    if (lead < 0x80) {
      if (lead < 0x20 || lead == 0x7f) {
        return false;
      }
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      extra = 1;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      extra = 2;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      extra = 3;
    } else {
      return false;
    }
    if (idx + extra >= text.size()) {
      return false;
    }
    for (std::size_t next = 1; next <= extra; ++next) {
      if ((static_cast<unsigned char>(text[idx + next]) & 0xc0) != 0x80) {
        return false;
      }
    }
    idx += extra + 1;
  }
  return true;
}

json ViewJson(const SavedView& view) {
  return {{"id", view.id},
          {"name", view.fields.name},
          {"filter", view.fields.filter},
          {"description", view.fields.description},
          {"created_ms", view.created_ms},
          {"updated_ms", view.updated_ms}};
}

}  // namespace

ApiResult<bool> ValidateView(const ViewFields& fields) {
  const bool trimmed =
      !fields.name.empty() && fields.name.front() != ' ' && fields.name.back() != ' ';
  if (!trimmed || fields.name.size() > kMaxViewNameBytes || !IsPrintableUtf8(fields.name)) {
    return tl::unexpected(BadParameter("member 'name': 1 to " + std::to_string(kMaxViewNameBytes) +
                                       " bytes of printable text, no leading or trailing space"));
  }
  if (fields.description.size() > kMaxViewDescriptionBytes) {
    return tl::unexpected(BadParameter("member 'description': at most " +
                                       std::to_string(kMaxViewDescriptionBytes) + " bytes"));
  }
  if (fields.filter.size() > kMaxViewFilterBytes) {
    return tl::unexpected(
        BadParameter("member 'filter': at most " + std::to_string(kMaxViewFilterBytes) + " bytes"));
  }
  auto parsed = query::Filter::Parse(fields.filter);
  if (!parsed) {
    return tl::unexpected(
        ApiError{400, "bad_filter", parsed.error().ToString(), parsed.error().column});
  }
  return true;
}

Result<std::unique_ptr<ViewStore>> ViewStore::Open(std::string data_dir) {
  std::string path = std::move(data_dir) + "/" + std::string(kViewFileName);
  std::unique_ptr<ViewStore> store(new ViewStore(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return store;  // no views yet
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const json doc = json::parse(text, nullptr, false);
  auto corrupt = [&path](const std::string& what) {
    return MakeError(ErrorCode::kCorruption, path + ": " + what);
  };
  if (doc.is_discarded() || !doc.is_object()) {
    return corrupt("not a JSON object");
  }
  if (doc.value("version", 0) != kFileVersion) {
    return corrupt("unknown version (want " + std::to_string(kFileVersion) + ")");
  }
  if (!doc.contains("next_id") || !doc["next_id"].is_number_unsigned() || !doc.contains("views") ||
      !doc["views"].is_array()) {
    return corrupt("needs next_id and views");
  }
  store->next_id_ = doc["next_id"].get<std::uint64_t>();
  for (const json& item : doc["views"]) {
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string() ||
        !item.contains("name") || !item["name"].is_string() || !item.contains("filter") ||
        !item["filter"].is_string()) {
      return corrupt("a view without id, name or filter");
    }
    SavedView view;
    view.id = item["id"].get<std::string>();
    view.fields.name = item["name"].get<std::string>();
    view.fields.filter = item["filter"].get<std::string>();
    const json description = item.value("description", json(""));
    view.fields.description = description.is_string() ? description.get<std::string>() : "";
    const json created = item.value("created_ms", json(0));
    const json updated = item.value("updated_ms", json(0));
    view.created_ms = created.is_number_integer() ? created.get<std::int64_t>() : 0;
    view.updated_ms = updated.is_number_integer() ? updated.get<std::int64_t>() : 0;
    store->views_.push_back(std::move(view));
  }
  return store;
}

std::vector<SavedView> ViewStore::List() const {
  std::lock_guard lock(mutex_);
  return views_;
}

std::optional<SavedView> ViewStore::Find(std::string_view id) const {
  std::lock_guard lock(mutex_);
  for (const SavedView& view : views_) {
    if (view.id == id) {
      return view;
    }
  }
  return std::nullopt;
}

bool ViewStore::NameTaken(std::string_view name, std::string_view except_id) const {
  return std::any_of(views_.begin(), views_.end(), [&](const SavedView& view) {
    return view.fields.name == name && view.id != except_id;
  });
}

ApiResult<SavedView> ViewStore::Create(ViewFields fields, std::int64_t now_ms) {
  if (auto valid = ValidateView(fields); !valid) {
    return tl::unexpected(valid.error());
  }
  std::lock_guard lock(mutex_);
  if (views_.size() >= kMaxViews) {
    return tl::unexpected(ApiError{
        413, "too_many_views", "at most " + std::to_string(kMaxViews) + " views", std::nullopt});
  }
  if (NameTaken(fields.name, "")) {
    return tl::unexpected(
        ApiError{409, "conflict", "a view named '" + fields.name + "' exists", std::nullopt});
  }
  SavedView view{"v" + std::to_string(next_id_), std::move(fields), now_ms, now_ms};
  std::vector<SavedView> views = views_;
  views.push_back(view);
  if (auto saved = Save(std::move(views), next_id_ + 1); !saved) {
    return tl::unexpected(saved.error());
  }
  return view;
}

ApiResult<SavedView> ViewStore::Update(std::string_view id, ViewFields fields,
                                       std::int64_t now_ms) {
  if (auto valid = ValidateView(fields); !valid) {
    return tl::unexpected(valid.error());
  }
  std::lock_guard lock(mutex_);
  std::vector<SavedView> views = views_;
  const auto found = std::find_if(views.begin(), views.end(),
                                  [&](const SavedView& view) { return view.id == id; });
  if (found == views.end()) {
    return tl::unexpected(ApiError{
        404, "not_found", "no view with id '" + std::string(id.substr(0, 64)) + "'", std::nullopt});
  }
  if (NameTaken(fields.name, id)) {
    return tl::unexpected(
        ApiError{409, "conflict", "a view named '" + fields.name + "' exists", std::nullopt});
  }
  found->fields = std::move(fields);
  found->updated_ms = now_ms;
  SavedView updated = *found;
  if (auto saved = Save(std::move(views), next_id_); !saved) {
    return tl::unexpected(saved.error());
  }
  return updated;
}

ApiResult<bool> ViewStore::Delete(std::string_view id) {
  std::lock_guard lock(mutex_);
  std::vector<SavedView> views = views_;
  const auto kept = std::remove_if(views.begin(), views.end(),
                                   [&](const SavedView& view) { return view.id == id; });
  if (kept == views.end()) {
    return tl::unexpected(ApiError{
        404, "not_found", "no view with id '" + std::string(id.substr(0, 64)) + "'", std::nullopt});
  }
  views.erase(kept, views.end());
  return Save(std::move(views), next_id_);
}

ApiResult<bool> ViewStore::Save(std::vector<SavedView> views, std::uint64_t next_id) {
  json items = json::array();
  for (const SavedView& view : views) {
    items.push_back(ViewJson(view));
  }
  const std::string text =
      JsonText(json{{"version", kFileVersion}, {"next_id", next_id}, {"views", std::move(items)}}) +
      "\n";
  if (auto written = WriteFileAtomically(path_, text); !written) {
    return tl::unexpected(
        ApiError{500, "internal",
                 "cannot save the views: " + std::string(written.error().Message()), std::nullopt});
  }
  views_ = std::move(views);
  next_id_ = next_id;
  return true;
}

std::string ViewToJson(const SavedView& view) {
  return JsonText(ViewJson(view));
}

}  // namespace sluice::api
