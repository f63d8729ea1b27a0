// SPDX-License-Identifier: Apache-2.0

#include "api/web_assets_route.h"

#include <string>
#include <string_view>

#include "web/web_assets.h"

namespace sluice::api {
namespace {

// Scripts, styles and data only from this server; no framing by other sites.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

bool IsApiPath(std::string_view path) {
  return path == "/api" || path.substr(0, 5) == "/api/" || path == "/metrics" ||
         path.substr(0, 9) == "/metrics/";
}

// A UI route ("/host/10.0.0.1") rather than a missing file ("/favicon.ico"): no dot in
// the last segment, or an address in it.
bool LooksLikeUiRoute(std::string_view path) {
  const std::string_view last = path.substr(path.rfind('/') + 1);
  return last.find('.') == std::string_view::npos || path.substr(0, 6) == "/host/";
}

}  // namespace

bool AnswerWebAsset(const httplib::Request& req, httplib::Response& res) {
  const std::string_view path = req.path;
  if (IsApiPath(path)) {
    return false;
  }
  const web::WebAsset* asset =
      web::FindWebAsset(path == "/" ? std::string_view("/index.html") : path);
  if (asset == nullptr && LooksLikeUiRoute(path) && path.substr(0, 8) != "/assets/") {
    asset = web::FindWebAsset("/index.html");
  }
  if (asset == nullptr) {
    return false;
  }
  res.status = 200;
  res.set_header("Cache-Control",
                 asset->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (asset->content_type.substr(0, 9) == "text/html") {
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
    res.set_header("Referrer-Policy", "no-referrer");
  }
  res.set_content(std::string(asset->body), std::string(asset->content_type));
  return true;
}

}  // namespace sluice::api
