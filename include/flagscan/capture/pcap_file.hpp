// PcapFile: frames from a saved capture (pcap or pcapng, any link type flagscan decodes).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "flagscan/capture/live_capture.hpp"
#include "flagscan/capture/pcapng_reader.hpp"
#include "flagscan/net/reassembly.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// Reads a capture front to back; every byte of it is untrusted input. pcap files are read by
// libpcap, pcapng files by PcapngReader, so that each interface keeps its own link type (the
// frame's `link`). IPv4 fragments come out
// as the datagram they make up, once its last piece is read (see Ipv4Reassembler); a first
// fragment that holds its whole transport header comes out as it is.
class PcapFile {
public:
    // A missing file, a file that is not a capture, or a link type flagscan cannot read is a
    // one-line error naming the file.
    static Result<PcapFile> open(const std::string& path);
    // The same over a capture held in memory (the fuzzer's input), called NAME in errors; BYTES
    // must outlive the PcapFile.
    static Result<PcapFile> open_bytes(std::span<const std::uint8_t> bytes, const std::string& name);

    LinkType link() const { return link_; }
    // The most bytes of each packet the capture kept (its snaplen).
    std::uint32_t snaplen() const { return snaplen_; }
    // The next frame (timestamps in microseconds since the epoch), or nullopt at the end.
    std::optional<Frame> next();
    // The whole record of the frame next() returned last, as the file holds it (a Frame keeps
    // only its first Frame::kCapacity bytes; TCP payloads need the rest), valid until the next
    // call; empty for a datagram rebuilt from fragments, whose Frame is all there is.
    std::span<const std::uint8_t> record() const { return record_; }
    // Set when the file ended inside a packet (a capture cut short): what came before it counts.
    const std::string& damage() const { return damage_; }
    // Fragments read that made no whole datagram (a piece was missing).
    std::uint64_t fragments_unused() const { return reassembler_.fragments_unused(); }

private:
    PcapFile(PcapHandle handle, std::optional<PcapngReader> pcapng, LinkType link, std::string path,
             std::uint32_t snaplen)
        : handle_(std::move(handle)), pcapng_(std::move(pcapng)), link_(link), path_(std::move(path)), snaplen_(snaplen) {}
    static Result<PcapFile> from_handle(PcapHandle handle, const std::string& path, const char* errbuf);
    static Result<PcapFile> from_pcapng(std::unique_ptr<std::istream> in, const std::string& path);
    std::optional<Frame> read_pcapng_record();
    std::optional<Frame> read_record();
    bool reassemble(Frame& frame);

    PcapHandle handle_;                   // a pcap file
    std::optional<PcapngReader> pcapng_;  // or a pcapng one
    LinkType link_;
    std::string path_;
    std::uint32_t snaplen_ = 0;
    std::string damage_;
    Ipv4Reassembler reassembler_;
    std::span<const std::uint8_t> record_;
};

}  // namespace flagscan
