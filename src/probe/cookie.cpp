// SipHash-2-4 cookies for probe sequence numbers.
#include "flagscan/probe/cookie.hpp"

#include <bit>
#include <random>

namespace flagscan {
namespace {

constexpr std::uint32_t kIdSpace = 65535;  // the nonzero 16-bit values

struct SipState {
    std::uint64_t v0, v1, v2, v3;

    void round() {
        v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
        v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
        v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
        v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
    }
    void compress(std::uint64_t m) {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// SipHash-2-4 of a 16-byte message given as its two little-endian 64-bit words.
std::uint64_t siphash_words(std::uint64_t k0, std::uint64_t k1, std::uint64_t m0, std::uint64_t m1) {
    SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
               k1 ^ 0x7465646279746573ULL};
    s.compress(m0);
    s.compress(m1);
    s.compress(std::uint64_t{16} << 56);  // final block: length in the top byte, no tail bytes
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace

std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, const std::array<std::uint8_t, 16>& message) {
    return siphash_words(k0, k1, load_le64(message.data()), load_le64(message.data() + 8));
}

CookieKey CookieKey::random() {
    std::random_device device;
    auto draw = [&device] { return (std::uint64_t{device()} << 32) | device(); };
    const std::uint64_t k0 = draw();
    return CookieKey{k0, draw()};
}

std::uint32_t CookieKey::operator()(Ipv4 src, Ipv4 dst, Port dport, Port sport) const {
    // The 16-byte message src, dst, dport << 16 | sport, 0x666c6167 (domain separation for TCP
    // probe cookies), each 32 bits little-endian, as its two 64-bit words: --offline crafts
    // millions a second, and the byte array costs as much as the hash.
    const std::uint64_t m0 = std::uint64_t{src.value()} | (std::uint64_t{dst.value()} << 32);
    const std::uint64_t m1 = ((std::uint64_t{dport.value()} << 16) | sport.value()) | (std::uint64_t{0x666c6167} << 32);
    return static_cast<std::uint32_t>(siphash_words(k0_, k1_, m0, m1));
}

std::uint16_t udp_ip_id(std::uint32_t cookie, std::uint32_t offset) {
    const std::uint32_t base = (cookie >> 16) % kIdSpace;
    return static_cast<std::uint16_t>(1 + (base + kIdSpace - 1 + offset % kIdSpace) % kIdSpace);
}

std::uint32_t udp_id_offset(std::uint32_t cookie, std::uint16_t ip_id) {
    const std::uint32_t base = (cookie >> 16) % kIdSpace;
    return (ip_id + kIdSpace - base) % kIdSpace;
}

}  // namespace flagscan
