// --spoof-mac's and the direct link's sink: IP packets framed for Ethernet by hand, next hops' MACs from the kernel and the capture.
#include "flagscan/wire/ethernet_sink.hpp"

#include <algorithm>

#include "flagscan/net/bytes.hpp"
#include "flagscan/net/decode6.hpp"

namespace flagscan {
namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kOffDst4 = 16, kOffDst6 = 24;  // RFC 791 3.1, RFC 8200 3

}  // namespace

void NeighborCache::learn(const Ipv6& address, const MacAddress& mac) {
    std::lock_guard lock{mutex_};
    const auto [entry, added] = known_.try_emplace(address, mac);
    if (!added && entry->second == mac) return;
    entry->second = mac;
    generation_.fetch_add(1, std::memory_order_release);
}

std::optional<MacAddress> NeighborCache::find(const Ipv6& address) const {
    std::lock_guard lock{mutex_};
    const auto found = known_.find(address);
    if (found == known_.end()) return std::nullopt;
    return found->second;
}

void NeighborCache::learn_from(LinkType link, std::span<const std::uint8_t> frame) {
    const ByteView bytes{frame};
    const auto carried = link_payload(link, bytes);  // the capture thread sees every reply: decode only ARP and IPv6
    if (!carried || (carried->ethertype != ethertype::arp && carried->ethertype != ethertype::ipv6)) return;
    if (const auto packet = decode_frame(link, bytes); packet && packet->arp && packet->arp->operation == 2)
        return learn(Ipv6::mapped(packet->arp->sender_ip), packet->arp->sender_mac);
    const auto packet6 = decode_frame6(link, bytes);
    if (!packet6 || !packet6->icmp6 || packet6->icmp6->type != icmp6_type::neighbor_advertisement) return;
    const auto& neighbor = packet6->icmp6->neighbor;
    if (neighbor && neighbor->link_address) learn(neighbor->target, *neighbor->link_address);
}

void write_ethernet_frame(const MacAddress& destination, const MacAddress& source, std::span<const std::uint8_t> packet,
                          std::span<std::uint8_t> out) {
    std::copy(destination.begin(), destination.end(), out.begin());
    std::copy(source.begin(), source.end(), out.begin() + 6);
    const bool ipv6 = !packet.empty() && (packet[0] >> 4) == 6;
    put_be16(out, 12, ipv6 ? ethertype::ipv6 : ethertype::ipv4);
    std::copy(packet.begin(), packet.end(), out.begin() + kEthernetHeader);
}

std::optional<Ipv6> packet_destination(std::span<const std::uint8_t> packet) {
    const int version = packet.empty() ? 0 : packet[0] >> 4;
    if (version == 4 && packet.size() >= kOffDst4 + 4) return Ipv6::mapped(Ipv4{ByteView{packet}.be32(kOffDst4).value_or(0)});
    if (version == 6 && packet.size() >= kOffDst6 + 16) return Ipv6::from_bytes(packet.subspan(kOffDst6).first<16>());
    return std::nullopt;
}

void EthernetSink::ask(const Ipv6& hop) {
    const auto now = std::chrono::steady_clock::now();
    const auto last = asked_.find(hop);
    if (last != asked_.end() && now - last->second < kAskEvery) return;
    asked_[hop] = now;
    const std::vector<std::uint8_t> request = ask_ ? ask_(hop) : std::vector<std::uint8_t>{};
    if (request.empty()) return;
    const std::span<const std::uint8_t> one[] = {request};
    stats_.asked += link_.send(one);
}

const EthernetSink::Resolved& EthernetSink::resolve(const Ipv6& destination) {
    const std::uint64_t generation = cache_.generation();  // read first: a MAC learnt meanwhile makes the answer stale
    if (last_ && last_->destination == destination && last_->generation == generation) return *last_;
    const auto hop = next_hop_(destination);
    // A range behind one gateway (or on one link's hop) keeps its hop: its MAC stands while the cache is unchanged.
    if (last_ && last_->hop == hop && last_->generation == generation) {
        last_->destination = destination;
        return *last_;
    }
    return last_.emplace(Resolved{destination, hop, hop ? cache_.find(*hop) : std::nullopt, generation});
}

std::size_t EthernetSink::send(std::span<const std::span<const std::uint8_t>> packets) {
    std::size_t bytes = 0;
    for (const auto& packet : packets) bytes += kEthernetHeader + packet.size();
    if (frames_.size() < bytes) frames_.resize(bytes);
    framed_.clear();
    unframed_.clear();
    std::size_t at = 0;
    for (const auto& packet : packets) {
        const auto destination = packet_destination(packet);
        const Resolved* resolved = destination ? &resolve(*destination) : nullptr;
        if (resolved != nullptr && resolved->mac) {
            const std::span<std::uint8_t> frame{frames_.data() + at, kEthernetHeader + packet.size()};
            write_ethernet_frame(*resolved->mac, source_, packet, frame);
            framed_.push_back(frame);
            at += frame.size();
            continue;
        }
        if (fallback_ != nullptr) {
            ++stats_.handed_back;
            unframed_.push_back(packet);
        } else {
            ++stats_.unresolved;
        }
        if (ask_ && resolved != nullptr && resolved->hop) ask(*resolved->hop);
    }
    if (!framed_.empty()) link_.send(framed_);
    if (!unframed_.empty()) fallback_->send(unframed_);
    return packets.size();
}

}  // namespace flagscan
