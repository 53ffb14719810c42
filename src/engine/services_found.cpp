// The -sV side table of Results and nmap's version text of a port.
#include "flagscan/engine/services_found.hpp"

#include <cstddef>
#include <string_view>
#include <utility>

namespace flagscan {
namespace {

// nmap's cstringSanityCheck: at most `limit` bytes, every byte outside printable ASCII as '.'.
void sanitize(std::string& text, std::size_t limit) {
    if (text.size() > limit) text.resize(limit);
    for (char& c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) c = '.';
    }
}

// nmap's fullversion buffer holds 160 bytes with its terminator; a piece is added only while 8
// or more are left, and one that does not fit whole is cut and ends in "...".
constexpr std::size_t kFullVersionRoom = 159;
constexpr std::size_t kSmallestPiece = 8;

// Appends `piece` (a space first when something came before), cut to what is left.
void append_piece(std::string& out, std::string_view piece, std::size_t& left) {
    if (!out.empty()) {
        out += ' ';
        --left;
    }
    if (left < piece.size()) {
        out.append(piece.substr(0, left - 3)).append("...");
        left = 0;
        return;
    }
    out.append(piece);
    left -= piece.size();
}

}  // namespace

ServiceFound ServiceFound::probed(std::string name, ServiceTunnel tunnel) {
    ServiceFound found;
    found.name = std::move(name);
    found.method = ServiceMethod::probed;
    found.tunnel = tunnel;
    found.confidence = kConfidenceProbed;
    return found;
}

ServiceFound ServiceFound::wrapped(ServiceTunnel tunnel) {
    ServiceFound found = probed("tcpwrapped", tunnel);
    found.confidence = kConfidenceTcpwrapped;
    found.tcpwrapped = true;
    return found;
}

ServiceFound ServiceFound::table(std::string name, ServiceTunnel tunnel) {
    ServiceFound found;
    found.name = std::move(name);
    found.tunnel = tunnel;
    return found;
}

std::string full_version(const ServiceFound& found) {
    std::string out;
    std::size_t left = kFullVersionRoom;
    if (!found.product.empty() && left >= kSmallestPiece) append_piece(out, found.product, left);
    if (!found.version.empty() && left >= kSmallestPiece) append_piece(out, found.version, left);
    if (found.extrainfo.empty() || left < kSmallestPiece) return out;
    if (!out.empty()) {
        out += ' ';
        --left;
    }
    const std::string_view extra = found.extrainfo;
    if (left - 2 < extra.size()) out.append("(").append(extra.substr(0, left - 5)).append("...)");  // cut inside the ()
    else out.append("(").append(extra).append(")");
    return out;
}

void ServicesFound::set(std::uint64_t index, ServiceFound found) {
    if (found.tcpwrapped && found.name.empty()) found.name = "tcpwrapped";
    sanitize(found.name, found.name.size());  // from the probe file: not cut, as nmap
    for (auto* field : {&found.product, &found.version, &found.hostname}) sanitize(*field, 80);
    sanitize(found.extrainfo, 256);
    sanitize(found.ostype, 32);
    sanitize(found.devicetype, 32);
    for (auto& cpe : found.cpe) sanitize(cpe, 80);
    if (found.confidence > kConfidenceProbed) found.confidence = kConfidenceProbed;
    found_.insert_or_assign(index, std::move(found));
}

const ServiceFound* ServicesFound::find(std::uint64_t index) const {
    const auto it = found_.find(index);
    return it == found_.end() ? nullptr : &it->second;
}

void ServicesFound::set_owner(std::uint64_t index, std::string user) {
    sanitize(user, 80);
    owners_[index] = std::move(user);
}

const std::string* ServicesFound::owner(std::uint64_t index) const {
    const auto it = owners_.find(index);
    return it == owners_.end() ? nullptr : &it->second;
}

}  // namespace flagscan
