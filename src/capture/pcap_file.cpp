// Reading saved captures with libpcap (pcap and pcapng alike), IPv4 fragments reassembled.
#include "flagscan/capture/pcap_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace flagscan {

Result<PcapFile> PcapFile::open(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return Error{"cannot read capture '" + path + "': no such file"};
    if (S_ISDIR(info.st_mode)) return Error{"cannot read capture '" + path + "': it is a directory"};
    auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
    std::uint8_t magic[4] = {};
    in->read(reinterpret_cast<char*>(magic), 4);
    if (PcapngReader::starts_pcapng(std::span<const std::uint8_t>{magic, static_cast<std::size_t>(in->gcount())})) {
        in->seekg(0);
        return from_pcapng(std::move(in), path);
    }
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    PcapHandle handle{pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf)};
    return from_handle(std::move(handle), path, errbuf);
}

namespace {

Error unknown_link(const std::string& path, int dlt) {
    const char* name = pcap_datalink_val_to_name(dlt);
    return Error{"cannot read capture '" + path + "': link type " + (name ? name : std::to_string(dlt)) +
                 " is not one flagscan decodes (Ethernet, raw IP, Linux cooked, loopback)"};
}

}  // namespace

Result<PcapFile> PcapFile::from_pcapng(std::unique_ptr<std::istream> in, const std::string& path) {
    auto reader = PcapngReader::open(std::move(in));
    if (!reader) return Error{"cannot read capture '" + path + "': " + reader.error()};
    auto link = link_type_from_dlt(reader->first_dlt());
    if (!link) return unknown_link(path, reader->first_dlt());
    // pcapng's snaplen 0 means "no limit"; libpcap reads it as its largest, 262144.
    const std::uint32_t snaplen = reader->first_snaplen() == 0 ? 262144 : reader->first_snaplen();
    return PcapFile{PcapHandle{}, std::move(*reader), *link, path, snaplen};
}

Result<PcapFile> PcapFile::open_bytes(std::span<const std::uint8_t> bytes, const std::string& name) {
    if (PcapngReader::starts_pcapng(bytes))
        return from_pcapng(std::make_unique<std::istringstream>(std::string(bytes.begin(), bytes.end())), name);
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
    if (!link) return unknown_link(path, dlt);
    const auto snaplen = static_cast<std::uint32_t>(std::max(pcap_snapshot(handle.get()), 0));
    return PcapFile{std::move(handle), std::nullopt, *link, path, snaplen};
}

std::optional<Frame> PcapFile::next() {
    while (auto frame = read_record()) {
        if (reassemble(*frame)) return frame;
    }
    return std::nullopt;
}

// The next packet of a pcapng file, with its interface's link type; packets of interfaces
// whose link type flagscan cannot decode are passed over.
std::optional<Frame> PcapFile::read_pcapng_record() {
    while (auto record = pcapng_->next()) {
        auto link = link_type_from_dlt(record->dlt);
        if (!link) continue;
        Frame frame;
        frame.assign(record->bytes, record->ts);
        frame.link = link;
        record_ = record->bytes;
        return frame;
    }
    damage_ = pcapng_->damage();
    return std::nullopt;
}

std::optional<Frame> PcapFile::read_record() {
    record_ = {};
    if (pcapng_) return read_pcapng_record();
    pcap_pkthdr* header = nullptr;
    const u_char* bytes = nullptr;
    const int status = pcap_next_ex(handle_.get(), &header, &bytes);
    if (status == 1) {
        Frame frame;
        frame.assign({bytes, header->caplen}, Micros{header->ts.tv_sec} * kSecond + header->ts.tv_usec);
        record_ = {bytes, header->caplen};
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
    auto payload = link_payload(frame.link.value_or(link_), bytes);
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
    record_ = {};
    return true;
}

}  // namespace flagscan
