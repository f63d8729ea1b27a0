// SPDX-License-Identifier: Apache-2.0
// The web dashboard's files, served by the API server from the binary (web/web_assets.h):
// GET / and every embedded path, no token needed (the UI's own API calls carry one). A
// path that is no file and looks like a UI route (no extension) answers index.html, so
// a reloaded page finds its way; /api/ and /metrics are never answered here.

#pragma once

#include <httplib.h>

namespace sluice::api {

// Answers GET `req.path` with an embedded file and returns true, or returns false and
// leaves `res` alone (not a UI path: the caller answers 404).
bool AnswerWebAsset(const httplib::Request& req, httplib::Response& res);

}  // namespace sluice::api
