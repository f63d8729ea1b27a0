// SPDX-License-Identifier: Apache-2.0
// The saved views' routes (docs/api.md):
//   GET    /api/v1/views          {"items": [view, ...], "total"}
//   POST   /api/v1/views          {name, filter, description?} -> 201 and the view (admin)
//   GET    /api/v1/views/{id}     the view
//   PUT    /api/v1/views/{id}     {name, filter, description?} -> the view (admin)
//   DELETE /api/v1/views/{id}     {"deleted": id} (admin)
// A view is {"id","name","filter","description","created_ms","updated_ms"}.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/api_error.h"
#include "api/query_endpoints.h"
#include "api/view_store.h"

namespace sluice::api {

struct ViewAnswer {
  int status = 200;
  Body body;
};

ApiResult<ViewAnswer> ListViews(const ViewStore& views);
ApiResult<ViewAnswer> GetView(const ViewStore& views, std::string_view id);
ApiResult<ViewAnswer> CreateView(ViewStore& views, std::string_view json_body, std::int64_t now_ms);
ApiResult<ViewAnswer> UpdateView(ViewStore& views, std::string_view id, std::string_view json_body,
                                 std::int64_t now_ms);
ApiResult<ViewAnswer> DeleteView(ViewStore& views, std::string_view id);

}  // namespace sluice::api
