// LiveCapture: one BPF-filtered libpcap session on a thread, handing frames to the engine's thread.
#pragma once

#include <pcap/pcap.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flagscan/net/result.hpp"
#include "flagscan/wire/frame.hpp"

namespace flagscan {

struct PcapDeleter {
    void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapDeleter>;

struct PcapDumperDeleter {
    void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};
using PcapDumper = std::unique_ptr<pcap_dumper_t, PcapDumperDeleter>;

struct CaptureOptions {
    std::string device;
    std::string filter;          // BPF expression
    int buffer_bytes = 16 << 20;  // the kernel ring: ~45,000 frames, seconds of replies at full rate
    // How long a block may wait before it is handed over: the engine hears of a reply this much later at worst
    // (delivery_slack), which is what its window grows on at the start and what each timeout waits beyond the RTT.
    int timeout_ms = 2;
    bool both_directions = false;  // also see what we send (for -w)
    std::string dump_path;         // -w: every captured frame also goes to this pcap file
    // --spoof-mac: the interface takes frames to any MAC (replies to the spoofed one included)
    bool promiscuous = false;
    // Called on the capture thread with every frame that passed the filter (--spoof-mac learns
    // neighbours' MACs from it); it must be quick and thread-safe.
    std::function<void(std::span<const std::uint8_t>)> tap;
};

struct CaptureStats {
    std::uint64_t received = 0;  // by the filter (pcap_stats ps_recv)
    std::uint64_t dropped = 0;   // by the kernel for lack of buffer (ps_drop)
    std::uint64_t if_dropped = 0;
};

// Why block mode and not immediate mode: immediate mode wakes the capture thread for every
// packet, which costs 20-30% of the whole scan rate on two cores; with TPACKET_V3 blocks and
// a short timeout the thread wakes per block instead, and frames keep their kernel
// timestamps, so round trips are still measured exactly. The engine allows for the extra
// delivery delay (delivery_slack) when it decides a probe has timed out.
class LiveCapture final : public FrameSource {
public:
    static Result<std::unique_ptr<LiveCapture>> open(const CaptureOptions& options);
    ~LiveCapture() override;
    LiveCapture(const LiveCapture&) = delete;
    LiveCapture& operator=(const LiveCapture&) = delete;

    LinkType link() const override { return link_; }
    void wait(Micros deadline, std::vector<Frame>& out) override;

    // Starts the capture thread; frames arriving before this wait in the kernel ring.
    void start();
    // Stops the thread (pcap_breakloop) and returns the kernel's counters.
    CaptureStats stop();
    // The longest a frame can wait before wait() returns it.
    Micros delivery_slack() const { return 2 * timeout_ * kMillisecond + 5 * kMillisecond; }

private:
    LiveCapture(PcapHandle handle, PcapDumper dumper, LinkType link, int timeout_ms,
                std::function<void(std::span<const std::uint8_t>)> tap);
    void run();
    static void on_packet(u_char* self, const pcap_pkthdr* header, const u_char* bytes);

    PcapHandle handle_;
    PcapDumper dumper_;  // written by the capture thread only; flushed after every block
    LinkType link_;
    int timeout_;
    std::function<void(std::span<const std::uint8_t>)> tap_;
    Micros realtime_offset_;  // pcap's wall-clock timestamps minus the steady clock
    std::vector<Frame> batch_;  // filled by the capture thread during one pcap_dispatch

    std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable room_;
    std::vector<Frame> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace flagscan
