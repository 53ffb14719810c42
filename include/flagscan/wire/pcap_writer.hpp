// PcapWriter and CountingSink: the FrameSinks of --offline, which record probes and never touch a wire.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "flagscan/net/result.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

// Counts what it is handed, as a dry run of the send path (--offline without -w).
class CountingSink final : public FrameSink {
public:
    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;
    std::uint64_t packets() const { return packets_; }
    std::uint64_t bytes() const { return bytes_; }

private:
    std::uint64_t packets_ = 0;
    std::uint64_t bytes_ = 0;
};

// Writes each packet (IPv4, no link header) as a record of a pcap file of link type RAW
// (LINKTYPE_RAW, 101: tcpdump -r, Wireshark and --replay read it), stamped with the wall-clock
// time of the send() call it came in. Buffered: one write(2) per megabyte, not per packet.
class PcapWriter final : public FrameSink {
public:
    // Creates (or truncates) the file and writes its header; an error names the file.
    static Result<PcapWriter> open(const std::string& path);

    std::size_t send(std::span<const std::span<const std::uint8_t>> packets) override;
    // Flushes what is buffered; false (and the reason in error()) when a write failed.
    bool finish();
    const std::string& error() const { return error_; }
    std::uint64_t packets() const { return packets_; }

private:
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    PcapWriter(std::unique_ptr<std::FILE, Closer> file, std::string path) : file_(std::move(file)), path_(std::move(path)) {}
    void fail();

    std::unique_ptr<std::FILE, Closer> file_;
    std::string path_;
    std::string error_;
    std::uint64_t packets_ = 0;
};

}  // namespace flagscan
