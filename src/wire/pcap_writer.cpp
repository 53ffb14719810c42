// PcapWriter and CountingSink: probes to a pcap file (libpcap's format, written directly) or to a count.
#include "flagscan/wire/pcap_writer.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace flagscan {
namespace {

constexpr std::uint32_t kMagicMicros = 0xa1b2c3d4;  // pcap, microsecond timestamps, in our byte order
constexpr std::uint32_t kLinktypeRaw = 101;          // LINKTYPE_RAW: each record starts with its IP header
constexpr std::uint32_t kSnaplen = 65535;
constexpr std::size_t kBuffer = 1 << 20;

// The pcap file format (draft-ietf-opsawg-pcap): a 24-byte header, then per packet a 16-byte
// record header (seconds, microseconds, bytes kept, bytes on the wire) and its bytes.
struct FileHeader {
    std::uint32_t magic = kMagicMicros;
    std::uint16_t major = 2;
    std::uint16_t minor = 4;
    std::int32_t thiszone = 0;
    std::uint32_t sigfigs = 0;
    std::uint32_t snaplen = kSnaplen;
    std::uint32_t linktype = kLinktypeRaw;
};

struct RecordHeader {
    std::uint32_t seconds;
    std::uint32_t micros;
    std::uint32_t kept;
    std::uint32_t length;
};

}  // namespace

std::size_t CountingSink::send(std::span<const std::span<const std::uint8_t>> packets) {
    packets_ += packets.size();
    for (const auto& packet : packets) bytes_ += packet.size();
    return packets.size();
}

Result<PcapWriter> PcapWriter::open(const std::string& path) {
    errno = 0;
    std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "wb"));
    if (!file) return Error{"cannot write '" + path + "': " + std::generic_category().message(errno != 0 ? errno : EIO)};
    std::setvbuf(file.get(), nullptr, _IOFBF, kBuffer);
    const FileHeader header;
    if (std::fwrite(&header, sizeof header, 1, file.get()) != 1)
        return Error{"cannot write '" + path + "': " + std::generic_category().message(errno != 0 ? errno : EIO)};
    return PcapWriter{std::move(file), path};
}

std::size_t PcapWriter::send(std::span<const std::span<const std::uint8_t>> packets) {
    if (!error_.empty()) return 0;
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
    for (const auto& packet : packets) {
        const auto size = static_cast<std::uint32_t>(packet.size());
        const RecordHeader record{static_cast<std::uint32_t>(micros / 1000000), static_cast<std::uint32_t>(micros % 1000000),
                                  size, size};
        if (std::fwrite(&record, sizeof record, 1, file_.get()) != 1 ||
            std::fwrite(packet.data(), 1, packet.size(), file_.get()) != packet.size()) {
            fail();
            return 0;
        }
        ++packets_;
    }
    return packets.size();
}

bool PcapWriter::finish() {
    if (error_.empty() && std::fflush(file_.get()) != 0) fail();
    return error_.empty();
}

void PcapWriter::fail() {
    error_ = "cannot write '" + path_ + "': " + std::generic_category().message(errno != 0 ? errno : EIO);
}

}  // namespace flagscan
