// The live capture: libpcap in block mode on its own thread, frames queued for the engine.
#include "flagscan/capture/live_capture.hpp"

#include <chrono>
#include <cstring>

#include "flagscan/engine/clock.hpp"

namespace flagscan {
namespace {

constexpr int kSnaplen = static_cast<int>(Frame::kCapacity);
constexpr std::size_t kQueueLimit = 1 << 20;  // frames waiting for the engine before we hold back

Micros realtime_now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string activation_error(pcap_t* p, int status, const std::string& device) {
    switch (status) {
        case PCAP_ERROR_NO_SUCH_DEVICE: return "unknown interface '" + device + "'";
        case PCAP_ERROR_PERM_DENIED: return "no permission to capture on '" + device + "' (run as root)";
        case PCAP_ERROR_IFACE_NOT_UP: return "interface '" + device + "' is down";
        default: return "cannot capture on '" + device + "': " + pcap_geterr(p);
    }
}

Result<PcapHandle> activate(const CaptureOptions& options) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    PcapHandle p{pcap_create(options.device.c_str(), errbuf)};
    if (!p) return Error{"cannot capture on '" + options.device + "': " + errbuf};
    pcap_set_snaplen(p.get(), kSnaplen);
    pcap_set_promisc(p.get(), options.promiscuous ? 1 : 0);
    pcap_set_timeout(p.get(), options.timeout_ms);
    pcap_set_immediate_mode(p.get(), 0);
    pcap_set_buffer_size(p.get(), options.buffer_bytes);
    const int status = pcap_activate(p.get());
    if (status < 0) return Error{activation_error(p.get(), status, options.device)};
    return p;
}

Result<bool> apply_filter(pcap_t* p, const CaptureOptions& options) {
    bpf_program program{};
    if (pcap_compile(p, &program, options.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
        return Error{std::string("bad capture filter: ") + pcap_geterr(p)};
    const int status = pcap_setfilter(p, &program);
    pcap_freecode(&program);
    if (status != 0) return Error{std::string("cannot set capture filter: ") + pcap_geterr(p)};
    if (!options.both_directions) pcap_setdirection(p, PCAP_D_IN);
    return true;
}

// Moves the frames of `from` to the end of `to`, leaving `from` empty: by swapping the vectors when
// `to` is empty (the usual case: one block, one wait), so that a block's frames are not copied twice.
void hand_over(std::vector<Frame>& from, std::vector<Frame>& to) {
    if (to.empty()) {
        to.swap(from);
    } else {
        to.insert(to.end(), from.begin(), from.end());
    }
    from.clear();
}

}  // namespace

Result<std::unique_ptr<LiveCapture>> LiveCapture::open(const CaptureOptions& options) {
    auto handle = activate(options);
    if (!handle) return Error{handle.error()};
    if (auto filtered = apply_filter(handle->get(), options); !filtered) return Error{filtered.error()};
    auto link = link_type_from_dlt(pcap_datalink(handle->get()));
    if (!link) return Error{"interface '" + options.device + "' has a link type flagscan cannot read"};
    PcapDumper dumper;
    if (!options.dump_path.empty()) {
        dumper.reset(pcap_dump_open(handle->get(), options.dump_path.c_str()));
        if (!dumper) return Error{"cannot write '" + options.dump_path + "': " + pcap_geterr(handle->get())};
    }
    return std::unique_ptr<LiveCapture>(
        new LiveCapture(std::move(handle).value(), std::move(dumper), *link, options.timeout_ms, options.tap));
}

LiveCapture::LiveCapture(PcapHandle handle, PcapDumper dumper, LinkType link, int timeout_ms,
                         std::function<void(std::span<const std::uint8_t>)> tap)
    : handle_(std::move(handle)), dumper_(std::move(dumper)), link_(link), timeout_(timeout_ms), tap_(std::move(tap)),
      realtime_offset_(realtime_now() - SteadyClock{}.now()) {}

LiveCapture::~LiveCapture() { stop(); }

void LiveCapture::start() {
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void LiveCapture::on_packet(u_char* self, const pcap_pkthdr* header, const u_char* bytes) {
    auto* capture = reinterpret_cast<LiveCapture*>(self);
    if (capture->dumper_) pcap_dump(reinterpret_cast<u_char*>(capture->dumper_.get()), header, bytes);
    if (capture->tap_) capture->tap_({bytes, header->caplen});
    const Micros real = Micros{header->ts.tv_sec} * kSecond + header->ts.tv_usec;
    capture->batch_.emplace_back().assign({bytes, header->caplen}, real - capture->realtime_offset_);
}

void LiveCapture::run() {
    for (;;) {
        batch_.clear();
        const int status = pcap_dispatch(handle_.get(), -1, &LiveCapture::on_packet, reinterpret_cast<u_char*>(this));
        if (dumper_ && status > 0) pcap_dump_flush(dumper_.get());  // a Ctrl-C still leaves a readable file
        std::unique_lock lock{mutex_};
        if (!batch_.empty()) {
            room_.wait(lock, [this] { return queue_.size() < kQueueLimit || stopping_; });
            hand_over(batch_, queue_);
            ready_.notify_one();
        }
        if (stopping_ || status == PCAP_ERROR || status == PCAP_ERROR_BREAK) return;
    }
}

void LiveCapture::wait(Micros deadline, std::vector<Frame>& out) {
    std::unique_lock lock{mutex_};
    const auto until = std::chrono::steady_clock::time_point{std::chrono::microseconds{deadline}};
    ready_.wait_until(lock, until, [this] { return !queue_.empty() || stopping_; });
    hand_over(queue_, out);
    room_.notify_one();
}

CaptureStats LiveCapture::stop() {
    {
        std::lock_guard lock{mutex_};
        stopping_ = true;
    }
    room_.notify_all();
    ready_.notify_all();
    if (thread_.joinable()) {
        pcap_breakloop(handle_.get());
        thread_.join();
    }
    if (dumper_) pcap_dump_flush(dumper_.get());
    pcap_stat raw{};
    CaptureStats stats;
    if (pcap_stats(handle_.get(), &raw) == 0) stats = CaptureStats{raw.ps_recv, raw.ps_drop, raw.ps_ifdrop};
    return stats;
}

}  // namespace flagscan
