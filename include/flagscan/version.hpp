// flagscan's version: meson.build's project version, the one definition every output names.
#pragma once

#include <string_view>

namespace flagscan {

#ifndef FLAGSCAN_VERSION
#error "FLAGSCAN_VERSION comes from meson.build (project version); build with meson"
#endif
inline constexpr std::string_view kVersion = FLAGSCAN_VERSION;

}  // namespace flagscan
