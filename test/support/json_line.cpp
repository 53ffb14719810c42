// One JSON-lines object as a flat map (json_line.hpp).
#include "json_line.hpp"

#include <charconv>
#include <cstring>
#include <system_error>

namespace flagscan::testsupport {

namespace {

// Recursive descent over one JSON object: nested objects flattened, arrays of scalars joined.
class JsonParser {
public:
    explicit JsonParser(std::string_view text) : text_(text) {}

    std::optional<JsonObject> parse() {
        JsonObject object;
        if (!parse_object("", object)) return std::nullopt;
        skip_space();
        if (pos_ != text_.size()) return std::nullopt;
        return object;
    }

private:
    bool parse_object(const std::string& prefix, JsonObject& out) {
        if (!consume('{')) return false;
        if (consume('}')) return true;
        do {
            std::string key;
            if (!parse_string(key) || !consume(':')) return false;
            if (!parse_value(prefix + key, out)) return false;
        } while (consume(','));
        return consume('}');
    }

    bool parse_value(const std::string& key, JsonObject& out) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '{') return parse_object(key + ".", out);
        if (pos_ < text_.size() && text_[pos_] == '[') return parse_array(key, out);
        std::string value;
        const bool ok = (pos_ < text_.size() && text_[pos_] == '"') ? parse_string(value)
                                                                     : parse_scalar(value);
        if (ok) out[key] = value;
        return ok;
    }

    // ["a","b"] -> "a,b"; [] -> "": detect's sources and targets (strings without commas).
    bool parse_array(const std::string& key, JsonObject& out) {
        if (!consume('[')) return false;
        std::string joined;
        if (!consume(']')) {
            do {
                skip_space();
                std::string value;
                const bool ok = (pos_ < text_.size() && text_[pos_] == '"') ? parse_string(value) : parse_scalar(value);
                if (!ok) return false;
                joined += (joined.empty() ? "" : ",") + value;
            } while (consume(','));
            if (!consume(']')) return false;
        }
        out[key] = joined;
        return true;
    }

    bool parse_string(std::string& out) {
        if (!consume('"')) return false;
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (c == '"') return true;
            if (c != '\\') {
                out += c;
            } else if (!parse_escape(out)) {
                return false;
            }
        }
        return false;
    }

    bool parse_escape(std::string& out) {
        if (pos_ >= text_.size()) return false;
        const char c = text_[pos_++];
        static constexpr std::string_view kFrom = "\"\\/bfnrt";
        static constexpr std::string_view kTo = "\"\\/\b\f\n\r\t";
        if (const auto i = kFrom.find(c); i != std::string_view::npos) {
            out += kTo[i];
            return true;
        }
        unsigned code = 0;
        if (c != 'u' || pos_ + 4 > text_.size()) return false;
        const auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, code, 16);
        if (ec != std::errc{} || end != text_.data() + pos_ + 4) return false;
        pos_ += 4;
        append_utf8(code, out);
        return true;
    }

    static void append_utf8(unsigned code, std::string& out) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    // Numbers, true, false, null: kept as their text.
    bool parse_scalar(std::string& out) {
        const auto start = pos_;
        while (pos_ < text_.size() && std::strchr("+-.0123456789eEtrufalsn", text_[pos_]) &&
               text_[pos_] != '\0') {
            ++pos_;
        }
        out = std::string(text_.substr(start, pos_ - start));
        return !out.empty();
    }

    bool consume(char expected) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == expected) {
            ++pos_;
            return true;
        }
        return false;
    }

    void skip_space() {
        while (pos_ < text_.size() && std::strchr(" \t\r\n", text_[pos_]) && text_[pos_] != '\0') {
            ++pos_;
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

std::optional<JsonObject> parse_json_object(std::string_view line) {
    return JsonParser(line).parse();
}

}  // namespace flagscan::testsupport
