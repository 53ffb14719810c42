// Fingerprint: lookup and nmap's one-test-per-line text form.
#include "flagscan/os/fingerprint.hpp"

#include <algorithm>

namespace flagscan {

const std::string* FingerprintTest::find(std::string_view attribute) const {
    auto it = std::find_if(attributes.begin(), attributes.end(), [&](const auto& a) { return a.first == attribute; });
    return it == attributes.end() ? nullptr : &it->second;
}

void FingerprintTest::set(std::string_view attribute, std::string value) {
    auto it = std::find_if(attributes.begin(), attributes.end(), [&](const auto& a) { return a.first == attribute; });
    if (it != attributes.end()) {
        it->second = std::move(value);
        return;
    }
    attributes.emplace_back(std::string(attribute), std::move(value));
}

std::string FingerprintTest::str() const {
    std::string text = name + "(";
    for (std::size_t i = 0; i < attributes.size(); ++i) text += (i ? "%" : "") + attributes[i].first + "=" + attributes[i].second;
    return text + ")";
}

const FingerprintTest* Fingerprint::find(std::string_view test) const {
    auto it = std::find_if(tests.begin(), tests.end(), [&](const auto& t) { return t.name == test; });
    return it == tests.end() ? nullptr : &*it;
}

FingerprintTest* Fingerprint::find(std::string_view test) {
    auto it = std::find_if(tests.begin(), tests.end(), [&](const auto& t) { return t.name == test; });
    return it == tests.end() ? nullptr : &*it;
}

std::string Fingerprint::str() const {
    std::string text;
    for (const auto& t : tests) text += t.str() + "\n";
    return text;
}

}  // namespace flagscan
