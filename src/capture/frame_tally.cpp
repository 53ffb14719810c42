// Counting what a capture held, and the one-line reason it shows no scan.
#include "flagscan/capture/frame_tally.hpp"

#include <algorithm>
#include <vector>

namespace flagscan {

void FrameTally::count(LinkType, ByteView, const std::optional<DecodedPacket>& packet, bool probe) {
    ++frames_;
    probes_ += probe ? 1 : 0;
    if (!packet) return;
    if (packet->tcp || packet->udp || packet->ip.later_fragment) return;
    if (packet->ip.protocol == ipproto::tcp) {
        ++cut_tcp_;
        tcp_end_ = std::max<std::size_t>(tcp_end_, std::size_t{packet->link_header} + packet->ip.header_length + 20);
    } else if (packet->ip.protocol == ipproto::udp) {
        ++cut_udp_;
    }
}

namespace {

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : "; ") + part;
    return out;
}

}  // namespace

std::optional<std::string> FrameTally::why_no_probes(const PcapFile& file) const {
    if (probes_ > 0) return std::nullopt;
    std::vector<std::string> why;
    if (cut_tcp_ > 0)
        why.push_back(std::to_string(cut_tcp_) + " TCP segments are cut before the end of their TCP header: the " +
                      "capture's snaplen is " + std::to_string(file.snaplen()) + " bytes, too short for a TCP header " +
                      "(it ends " + std::to_string(tcp_end_) + " bytes into these frames); capture again with " +
                      "a larger snaplen (tcpdump -s 128)");
    if (cut_udp_ > 0)
        why.push_back(std::to_string(cut_udp_) + " UDP datagrams are cut before the end of their UDP header (the " +
                      "capture's snaplen is " + std::to_string(file.snaplen()) + " bytes)");
    if (file.fragments_unused() > 0)
        why.push_back(std::to_string(file.fragments_unused()) +
                      " IPv4 fragments belong to datagrams the capture does not hold whole, so they were not reassembled");
    if (why.empty()) return std::nullopt;
    return "the capture holds no TCP or UDP probes that flagscan can read: " + join(why);
}

}  // namespace flagscan
