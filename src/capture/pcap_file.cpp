// Reading saved captures with libpcap (pcap and pcapng alike).
#include "flagscan/capture/pcap_file.hpp"

#include <sys/stat.h>

namespace flagscan {

Result<PcapFile> PcapFile::open(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return Error{"cannot read capture '" + path + "': no such file"};
    if (S_ISDIR(info.st_mode)) return Error{"cannot read capture '" + path + "': it is a directory"};
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    PcapHandle handle{pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf)};
    if (!handle) return Error{"cannot read capture '" + path + "': " + errbuf};
    const int dlt = pcap_datalink(handle.get());
    auto link = link_type_from_dlt(dlt);
    if (!link) {
        const char* name = pcap_datalink_val_to_name(dlt);
        return Error{"cannot read capture '" + path + "': link type " + (name ? name : std::to_string(dlt)) +
                     " is not one flagscan decodes (Ethernet, raw IP, Linux cooked, loopback)"};
    }
    return PcapFile{std::move(handle), *link, path};
}

std::optional<Frame> PcapFile::next() {
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

}  // namespace flagscan
