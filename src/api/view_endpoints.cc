// SPDX-License-Identifier: Apache-2.0

#include "api/view_endpoints.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "api/json_text.h"

namespace sluice::api {
namespace {

using nlohmann::json;

ApiError NoSuchView(std::string_view id) {
  return ApiError{404, "not_found", "no view with id '" + std::string(id.substr(0, 64)) + "'",
                  std::nullopt};
}

// {name, filter, description?}: strings only, nothing else.
ApiResult<ViewFields> ParseViewBody(std::string_view text) {
  const json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return tl::unexpected(ApiError{400, "bad_json", "the body is not a JSON object", std::nullopt});
  }
  ViewFields fields;
  for (const auto& [name, value] : body.items()) {
    std::string* member = name == "name"          ? &fields.name
                          : name == "filter"      ? &fields.filter
                          : name == "description" ? &fields.description
                                                  : nullptr;
    if (member == nullptr) {
      return tl::unexpected(BadParameter("unknown member '" + name.substr(0, 64) +
                                         "' (want name, filter, description)"));
    }
    if (!value.is_string()) {
      return tl::unexpected(BadParameter("member '" + name + "' must be a string"));
    }
    *member = value.get<std::string>();
  }
  if (!body.contains("name")) {
    return tl::unexpected(BadParameter("member 'name' is required"));
  }
  return fields;
}

ApiResult<ViewAnswer> ViewBody(const ApiResult<SavedView>& view, int status) {
  if (!view) {
    return tl::unexpected(view.error());
  }
  return ViewAnswer{status, Body{"application/json", ViewToJson(*view)}};
}

}  // namespace

ApiResult<ViewAnswer> ListViews(const ViewStore& views) {
  std::string items;
  const std::vector<SavedView> all = views.List();
  for (const SavedView& view : all) {
    items += (items.empty() ? "" : ",") + ViewToJson(view);
  }
  return ViewAnswer{200, Body{"application/json", "{\"items\":[" + items + "],\"total\":" +
                                                      std::to_string(all.size()) + "}"}};
}

ApiResult<ViewAnswer> GetView(const ViewStore& views, std::string_view id) {
  const std::optional<SavedView> view = views.Find(id);
  if (!view) {
    return tl::unexpected(NoSuchView(id));
  }
  return ViewAnswer{200, Body{"application/json", ViewToJson(*view)}};
}

ApiResult<ViewAnswer> CreateView(ViewStore& views, std::string_view json_body,
                                 std::int64_t now_ms) {
  auto fields = ParseViewBody(json_body);
  if (!fields) {
    return tl::unexpected(fields.error());
  }
  return ViewBody(views.Create(std::move(*fields), now_ms), 201);
}

ApiResult<ViewAnswer> UpdateView(ViewStore& views, std::string_view id, std::string_view json_body,
                                 std::int64_t now_ms) {
  auto fields = ParseViewBody(json_body);
  if (!fields) {
    return tl::unexpected(fields.error());
  }
  return ViewBody(views.Update(id, std::move(*fields), now_ms), 200);
}

ApiResult<ViewAnswer> DeleteView(ViewStore& views, std::string_view id) {
  if (auto deleted = views.Delete(id); !deleted) {
    return tl::unexpected(deleted.error());
  }
  return ViewAnswer{200, Body{"application/json", JsonText(json{{"deleted", std::string(id)}})}};
}

}  // namespace sluice::api
