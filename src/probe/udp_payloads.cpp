// UdpPayloads: the nmap-payloads parser, the compact port index and the system / built-in loaders.
#include "flagscan/probe/udp_payloads.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "flagscan/net/text.hpp"
#include "flagscan/targets/port_list.hpp"

namespace flagscan {

namespace {

// Where nmap installs its data files: the distribution's package, then a source build.
constexpr std::array<const char*, 2> system_paths = {"/usr/share/nmap/nmap-payloads",
                                                      "/usr/local/share/nmap/nmap-payloads"};
constexpr std::uint32_t no_payload = 0xffffffff;

Error at_line(std::size_t line, const std::string& what) {
    return Error{"line " + std::to_string(line) + ": " + what};
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// nmap's port syntax without protocol prefixes ("U:53" is not a payload port list).
bool is_port_list(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return is_digit(c) || c == ',' || c == '-'; });
}

bool is_port_number(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_digit) && parse_ports(text).ok();
}

struct Token {
    enum class Kind : std::uint8_t { end, word, string };
    Kind kind = Kind::end;
    std::string_view text;  // a word, or the inside of a string with its escapes still in
    std::size_t line = 0;
};

// Splits nmap-payloads text into words and quoted strings, passing over blanks and comments.
class Lexer {
public:
    explicit Lexer(std::string_view text) : text_(text) {}

    Result<Token> next() {
        skip_blanks_and_comments();
        if (pos_ == text_.size()) return Token{Token::Kind::end, {}, line_};
        if (text_[pos_] == '"') return quoted();
        const std::size_t start = pos_;
        while (pos_ < text_.size() && !is_blank(text_[pos_]) && text_[pos_] != '"' && text_[pos_] != '#') ++pos_;
        return Token{Token::Kind::word, text_.substr(start, pos_ - start), line_};
    }

private:
    void skip_blanks_and_comments() {
        while (pos_ < text_.size()) {
            if (text_[pos_] == '#') {
                pos_ = std::min(text_.find('\n', pos_), text_.size());
            } else if (is_blank(text_[pos_])) {
                if (text_[pos_++] == '\n') ++line_;
            } else {
                return;
            }
        }
    }

    // A string ends at the next unescaped quote on the same line.
    Result<Token> quoted() {
        const std::size_t start = ++pos_;
        while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') {
            const bool escape = text_[pos_] == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] != '\n';
            pos_ += escape ? 2 : 1;
        }
        if (pos_ == text_.size() || text_[pos_] != '"') return at_line(line_, "unterminated string");
        const Token token{Token::Kind::string, text_.substr(start, pos_ - start), line_};
        ++pos_;
        return token;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

// What parsing gathers: the payloads, back to back, and the payload each port gets.
struct Gathered {
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint32_t> ends;
    std::vector<std::uint32_t> payload_of_port = std::vector<std::uint32_t>(65536, no_payload);

    // Ports that an earlier entry already gave a payload keep it; an entry left with no
    // port of its own is not stored.
    void add(const std::vector<Port>& ports, std::string_view payload) {
        const auto index = static_cast<std::uint32_t>(ends.size());
        bool used = false;
        for (const Port port : ports) {
            std::uint32_t& slot = payload_of_port[port.value()];
            if (slot == no_payload) {
                slot = index;
                used = true;
            }
        }
        if (!used) return;
        bytes.insert(bytes.end(), payload.begin(), payload.end());
        ends.push_back(static_cast<std::uint32_t>(bytes.size()));
    }
};

// Reads entries: <protocol> <ports> <string>... [source <port>].
class Parser {
public:
    explicit Parser(std::string_view text) : lexer_(text) {}

    Result<bool> run(Gathered& out) {
        Result<bool> ok = advance();
        while (ok && token_.kind != Token::Kind::end) ok = entry(out);
        return ok;
    }

private:
    Result<bool> advance() {
        Result<Token> next = lexer_.next();
        if (!next) return Error{next.error()};
        token_ = next.value();
        return true;
    }

    Result<bool> entry(Gathered& out) {
        const Token protocol = token_;
        if (protocol.kind == Token::Kind::string) return at_line(protocol.line, "a string outside an entry");
        if (protocol.text == "source") return at_line(protocol.line, "'source' outside an entry");
        Result<bool> ok = advance();
        if (!ok) return ok;
        Result<std::vector<Port>> ports = port_list(protocol);
        if (!ports) return Error{ports.error()};
        Result<std::string> payload = strings(protocol);
        if (!payload) return Error{payload.error()};
        ok = optional_source();
        if (ok && protocol.text == "udp") out.add(ports.value(), payload.value());
        return ok;
    }

    Result<std::vector<Port>> port_list(const Token& protocol) {
        if (token_.kind != Token::Kind::word)
            return at_line(protocol.line, quote_for_error(protocol.text) + " has no port list");
        if (!is_port_list(token_.text)) return at_line(token_.line, "bad port list " + quote_for_error(token_.text));
        Result<std::vector<Port>> ports = parse_ports(token_.text);
        if (!ports) return at_line(token_.line, ports.error());
        Result<bool> ok = advance();
        if (!ok) return Error{ok.error()};
        return ports;
    }

    // One or more strings, concatenated.
    Result<std::string> strings(const Token& protocol) {
        if (token_.kind != Token::Kind::string)
            return at_line(protocol.line, quote_for_error(protocol.text) + " entry has no payload string");
        std::string payload;
        while (token_.kind == Token::Kind::string) {
            Result<std::string> piece = unescape_c_string(token_.text);
            if (!piece) return at_line(token_.line, piece.error());
            payload += piece.value();
            if (payload.size() > UdpPayloads::max_payload_size)
                return at_line(protocol.line, "payload longer than a UDP datagram can carry (65507 bytes)");
            Result<bool> ok = advance();
            if (!ok) return Error{ok.error()};
        }
        return payload;
    }

    // "source <port>": the source port nmap would send from; flagscan ignores it.
    Result<bool> optional_source() {
        if (token_.kind != Token::Kind::word || token_.text != "source") return true;
        const std::size_t line = token_.line;
        Result<bool> ok = advance();
        if (!ok) return ok;
        if (token_.kind != Token::Kind::word || !is_port_number(token_.text))
            return at_line(line, "'source' needs one port number");
        return advance();
    }

    Lexer lexer_;
    Token token_;
};

}  // namespace

Result<UdpPayloads> UdpPayloads::parse(std::string_view text) {
    Gathered gathered;
    Parser parser(text);
    const Result<bool> ok = parser.run(gathered);
    if (!ok) return Error{ok.error()};
    UdpPayloads table;
    table.bytes_ = std::move(gathered.bytes);
    table.ends_ = std::move(gathered.ends);
    table.index_ports(gathered.payload_of_port);
    table.source_ = "nmap-payloads";
    return table;
}

Result<UdpPayloads> UdpPayloads::load_file(const std::string& path) {
    const std::optional<std::string> text = read_text_file(path);
    if (!text) return Error{path + ": cannot read the file"};
    Result<UdpPayloads> table = parse(*text);
    if (!table) return Error{path + ": " + table.error()};
    table->source_ = "nmap-payloads (" + path + ")";
    return table;
}

UdpPayloads UdpPayloads::load_system() {
    for (const char* path : system_paths) {
        Result<UdpPayloads> table = load_file(path);
        if (table && table->port_count() > 0) return std::move(table).value();
    }
    return builtin();
}

UdpPayloads UdpPayloads::builtin() {
    Result<UdpPayloads> parsed = parse(builtin_udp_payloads_text());
    UdpPayloads table = parsed ? std::move(parsed).value() : UdpPayloads{};  // udp_payloads_test parses it
    table.source_ = "built-in";
    return table;
}

std::span<const std::uint8_t> UdpPayloads::for_port(Port port) const& {
    const auto after = std::upper_bound(runs_.begin(), runs_.end(), port.value(),
                                        [](std::uint16_t p, const Run& run) { return p < run.first; });
    if (after == runs_.begin()) return {};
    const Run& run = *std::prev(after);
    if (port.value() > run.last) return {};
    return payload(run.payload);
}

std::span<const std::uint8_t> UdpPayloads::payload(std::uint32_t index) const {
    const std::size_t begin = index == 0 ? 0 : ends_[index - 1];
    return std::span<const std::uint8_t>(bytes_).subspan(begin, ends_[index] - begin);
}

// Why runs: nmap's file gives whole ranges one payload (32768-65535 for RPC), so the index is
// a short sorted list of (first, last, payload) searched by binary search, not a 64K table.
void UdpPayloads::index_ports(std::span<const std::uint32_t> payload_of_port) {
    runs_.clear();
    port_count_ = 0;
    for (std::size_t port = 0; port < payload_of_port.size(); ++port) {
        const std::uint32_t index = payload_of_port[port];
        if (index == no_payload) continue;
        ++port_count_;
        const auto value = static_cast<std::uint16_t>(port);
        if (!runs_.empty() && runs_.back().payload == index && std::size_t{runs_.back().last} + 1 == port)
            runs_.back().last = value;
        else
            runs_.push_back(Run{value, value, index});
    }
    runs_.shrink_to_fit();
}

}  // namespace flagscan
