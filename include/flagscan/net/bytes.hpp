// ByteView: a bounds-checked reader over untrusted packet bytes; every read returns optional.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace flagscan {

class ByteView {
public:
    constexpr ByteView() = default;
    constexpr explicit ByteView(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    constexpr std::size_t size() const { return bytes_.size(); }
    constexpr std::span<const std::uint8_t> span() const { return bytes_; }

    std::optional<std::uint8_t> u8(std::size_t offset) const {
        if (offset >= bytes_.size()) return std::nullopt;
        return bytes_[offset];
    }
    // Network byte order (big endian).
    std::optional<std::uint16_t> be16(std::size_t offset) const {
        if (!fits(offset, 2)) return std::nullopt;
        return static_cast<std::uint16_t>((bytes_[offset] << 8) | bytes_[offset + 1]);
    }
    std::optional<std::uint32_t> be32(std::size_t offset) const {
        if (!fits(offset, 4)) return std::nullopt;
        return (std::uint32_t{bytes_[offset]} << 24) | (std::uint32_t{bytes_[offset + 1]} << 16) |
               (std::uint32_t{bytes_[offset + 2]} << 8) | bytes_[offset + 3];
    }
    // Host byte order, for link headers written by the capturing machine (BSD loopback).
    std::optional<std::uint32_t> host32(std::size_t offset) const {
        if (!fits(offset, 4)) return std::nullopt;
        std::uint32_t value = 0;
        std::memcpy(&value, bytes_.data() + offset, 4);
        return value;
    }

    // The bytes from offset to the end, or nullopt when offset is past the end.
    std::optional<ByteView> from(std::size_t offset) const {
        if (offset > bytes_.size()) return std::nullopt;
        return ByteView{bytes_.subspan(offset)};
    }
    // The first n bytes (all of them when fewer).
    ByteView first(std::size_t n) const { return ByteView{bytes_.first(n < bytes_.size() ? n : bytes_.size())}; }

    constexpr bool fits(std::size_t offset, std::size_t length) const {
        return offset <= bytes_.size() && length <= bytes_.size() - offset;
    }

private:
    std::span<const std::uint8_t> bytes_;
};

// Writes into a mutable buffer in network byte order; the caller guarantees the size.
inline void put_be16(std::span<std::uint8_t> out, std::size_t offset, std::uint16_t v) {
    out[offset] = static_cast<std::uint8_t>(v >> 8);
    out[offset + 1] = static_cast<std::uint8_t>(v);
}
inline void put_be32(std::span<std::uint8_t> out, std::size_t offset, std::uint32_t v) {
    put_be16(out, offset, static_cast<std::uint16_t>(v >> 16));
    put_be16(out, offset + 2, static_cast<std::uint16_t>(v));
}

}  // namespace flagscan
