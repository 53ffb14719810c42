// PcapFile: frames from a saved capture (pcap or pcapng, any link type flagscan decodes).
#pragma once

#include <optional>
#include <string>

#include "flagscan/capture/live_capture.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// Reads a capture front to back; every byte of it is untrusted input.
class PcapFile {
public:
    // A missing file, a file that is not a capture, or a link type flagscan cannot read is a
    // one-line error naming the file.
    static Result<PcapFile> open(const std::string& path);

    LinkType link() const { return link_; }
    // The next frame (timestamps in microseconds since the epoch), or nullopt at the end.
    std::optional<Frame> next();
    // Set when the file ended inside a packet (a capture cut short): what came before it counts.
    const std::string& damage() const { return damage_; }

private:
    PcapFile(PcapHandle handle, LinkType link, std::string path)
        : handle_(std::move(handle)), link_(link), path_(std::move(path)) {}
    PcapHandle handle_;
    LinkType link_;
    std::string path_;
    std::string damage_;
};

}  // namespace flagscan
