// Reading saved captures with libpcap (pcap and pcapng alike), IPv4 fragments reassembled.
#include "flagscan/capture/pcap_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

namespace flagscan {

Result<PcapFile> PcapFile::open(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return Error{"cannot read capture '" + path + "': no such file"};
    if (S_ISDIR(info.st_mode)) return Error{"cannot read capture '" + path + "': it is a directory"};
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    PcapHandle handle{pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf)};
    return from_handle(std::move(handle), path, errbuf);
}

Result<PcapFile> PcapFile::open_bytes(std::span<const std::uint8_t> bytes, const std::string& name) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    // fmemopen only reads through the pointer in "rb" mode; libpcap closes the stream.
    FILE* stream = ::fmemopen(const_cast<std::uint8_t*>(bytes.data()), bytes.size(), "rb");
    if (stream == nullptr) return Error{"cannot read capture '" + name + "': it is empty"};
    PcapHandle handle{pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_MICRO, errbuf)};
    if (!handle) std::fclose(stream);
    return from_handle(std::move(handle), name, errbuf);
}

Result<PcapFile> PcapFile::from_handle(PcapHandle handle, const std::string& path, const char* errbuf) {
    if (!handle) return Error{"cannot read capture '" + path + "': " + errbuf};
    const int dlt = pcap_datalink(handle.get());
    auto link = link_type_from_dlt(dlt);
    if (!link) {
        const char* name = pcap_datalink_val_to_name(dlt);
        return Error{"cannot read capture '" + path + "': link type " + (name ? name : std::to_string(dlt)) +
                     " is not one flagscan decodes (Ethernet, raw IP, Linux cooked, loopback)"};
    }
    const auto snaplen = static_cast<std::uint32_t>(std::max(pcap_snapshot(handle.get()), 0));
    return PcapFile{std::move(handle), *link, path, snaplen};
}

std::optional<Frame> PcapFile::next() {
    while (auto frame = read_record()) {
        if (reassemble(*frame)) return frame;
    }
    return std::nullopt;
}

std::optional<Frame> PcapFile::read_record() {
    pcap_pkthdr* header = nullptr;
    const u_char* bytes = nullptr;
    const int status = pcap_next_ex(handle_.get(), &header, &bytes);
    if (status == 1) {
        Frame frame;
        frame.assign({bytes, header->caplen}, Micros{header->ts.tv_sec} * kSecond + header->ts.tv_usec);
        return frame;
    }
    if (status == PCAP_ERROR) damage_ = std::string(pcap_geterr(handle_.get()));
    return std::nullopt;
}

namespace {

// A first fragment whose transport header is whole needs no reassembly to be read.
bool headers_whole(const DecodedPacket& packet) {
    if (packet.ip.later_fragment) return false;
    return packet.tcp || packet.udp || (packet.icmp && (packet.icmp->quoted || !is_icmp_error(packet.icmp->type)));
}

}  // namespace

// False while FRAME is a fragment of a datagram not yet whole; when its last piece is in, FRAME
// becomes that datagram behind the last piece's link header.
bool PcapFile::reassemble(Frame& frame) {
    const ByteView bytes{frame.span()};
    auto payload = link_payload(link_, bytes);
    if (!payload || payload->ethertype != ethertype::ipv4) return true;
    const ByteView ip = *bytes.from(payload->offset);
    auto packet = decode_ipv4(ip);
    if (!packet || !Ipv4Reassembler::is_fragment(packet->ip)) return true;
    const bool whole_already = headers_whole(*packet);
    auto datagram = reassembler_.add(ip, frame.ts, whole_already);
    if (whole_already) return true;
    if (!datagram) return false;
    std::vector<std::uint8_t> joined(bytes.span().begin(), bytes.span().begin() + static_cast<long>(payload->offset));
    joined.insert(joined.end(), datagram->begin(), datagram->end());
    frame.assign(joined, frame.ts);
    return true;
}

}  // namespace flagscan
