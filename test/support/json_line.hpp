// One JSON-lines object as a flat map, for the test suites that read flagscan's -oJ (live, replay).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace flagscan::testsupport {

// One JSON object; a nested object's members are flattened as "outer.inner", an array of
// scalars is its elements joined with ",". Strings are unescaped, every other scalar keeps its
// JSON text (numbers, true, null). Nullopt when the line is not one whole object.
using JsonObject = std::map<std::string, std::string>;

std::optional<JsonObject> parse_json_object(std::string_view line);

}  // namespace flagscan::testsupport
