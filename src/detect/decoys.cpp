// Decoys (nmap -D) told apart from the real scanner by what each source did besides probing.
#include "flagscan/detect/decoys.hpp"

namespace flagscan {
namespace {

void note_mac(std::optional<MacAddress>& slot, bool& mixed, const std::optional<MacAddress>& mac) {
    if (!mac || mixed) return;
    if (slot && *slot != *mac) mixed = true;
    else slot = mac;
}

std::string plural(std::uint32_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

// What a member did, in a few words: "12 RSTs to 12 SYN+ACKs, ARP for it answered, from 02:...".
std::string what_it_did(const GroupMember& m) {
    if (m.presence == nullptr) return m.address.str() + ": no state left (evicted)";
    const Presence& p = *m.presence;
    std::string text;
    auto add = [&text](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
    if (p.synacks > 0 || p.resets > 0) add(plural(p.resets, "RST") + " to " + plural(p.synacks, "SYN+ACK"));
    if (p.arp_asked > 0 || p.arp_sent > 0) add(plural(p.arp_asked, "ARP request") + " for it, " + std::to_string(p.arp_sent) + " ARP from it");
    if (p.data > 0) add(plural(p.data, "data segment"));
    if (p.own_mac) add(std::string("its frames from ") + (p.own_mac_mixed ? "several MACs" : mac_text(*p.own_mac)));
    return m.address.str() + ": " + (text.empty() ? "nothing but probes" : text);
}

std::string facts(const std::vector<GroupMember>& group) {
    std::string text;
    for (const auto& m : group) text += "; " + what_it_did(m);
    return text;
}

// The MAC every probe of the group came from, when there is one.
std::optional<MacAddress> common_probe_mac(const std::vector<GroupMember>& group) {
    std::optional<MacAddress> common;
    for (const auto& m : group) {
        if (m.presence == nullptr || !m.presence->probe_mac || m.presence->probe_mac_mixed) return std::nullopt;
        if (common && *common != *m.presence->probe_mac) return std::nullopt;
        common = m.presence->probe_mac;
    }
    return common;
}

DecoyVerdict named(const std::vector<GroupMember>& group, Ipv4 scanner, std::string why) {
    DecoyVerdict v{scanner, {}, std::move(why)};
    for (const auto& m : group)
        if (m.address != scanner) v.decoys.push_back(m.address);
    return v;
}

}  // namespace

void Presence::saw_probe(const std::optional<MacAddress>& mac) { note_mac(probe_mac, probe_mac_mixed, mac); }
void Presence::saw_own(const std::optional<MacAddress>& mac) { note_mac(own_mac, own_mac_mixed, mac); }

DecoyVerdict judge_decoys(const std::vector<GroupMember>& group) {
    const std::string seen = facts(group);
    // One machine sent every probe: the source whose own frames (RSTs, ARP, sessions) come from
    // that machine is it; a live decoy answers from its own MAC. Past a router every frame
    // carries the router's MAC, and then several sources "match": that proves nothing.
    if (const auto mac = common_probe_mac(group)) {
        std::vector<Ipv4> bound;
        for (const auto& m : group)
            if (m.presence && m.presence->own_mac && !m.presence->own_mac_mixed && *m.presence->own_mac == *mac) bound.push_back(m.address);
        const std::string one = "every probe of the " + std::to_string(group.size()) + " sources came from one MAC, " + mac_text(*mac);
        if (bound.size() == 1)
            return named(group, bound[0], one + ", and only " + bound[0].str() + "'s own frames come from it" + seen);
        if (bound.size() > 1)
            return {std::nullopt, {}, one + ", and " + std::to_string(bound.size()) + " of them answer from it too (a router's MAC, or one host with several addresses): the capture cannot tell" + seen};
    }
    // No link-layer proof: the one source that answered the target, the others asked and silent.
    std::vector<Ipv4> answered;
    bool others_asked = true;
    for (const auto& m : group) {
        if (m.presence && m.presence->answered()) answered.push_back(m.address);
        else if (!m.presence || !m.presence->asked()) others_asked = false;
    }
    if (answered.size() == 1 && others_asked)
        return named(group, answered[0], "only " + answered[0].str() + " answered the target; the others were asked (SYN+ACK, ARP) and never answered: spoofed" + seen);
    std::string why;
    if (answered.empty()) why = "none of them answered the target (no SYN+ACK to reset, no ARP seen; a firewall may drop the scanner's RSTs)";
    else if (answered.size() > 1) why = std::to_string(answered.size()) + " of them answer the target (a decoy that exists answers too) and the link layer does not tell them apart";
    else why = "only " + answered[0].str() + " answered, but not every other source was asked (no SYN+ACK or ARP to it), so none is proven spoofed";
    return {std::nullopt, {}, why + ": the capture cannot tell" + seen};
}

}  // namespace flagscan
