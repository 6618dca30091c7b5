// The local model store as the server sees it (routes_store.cpp).
#pragma once

#include <optional>
#include <string_view>

#include "server/model_manager.h"

namespace gs::server {

// A store reference ("ai/smollm2", "localhost:5000/team/m:v1") present in the
// store, as a servable model named by its display form; nullopt otherwise.
std::optional<ModelSpec> store_model_spec(std::string_view id);

}  // namespace gs::server
