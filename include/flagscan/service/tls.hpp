// TLS for service probes: an OpenSSL client context and session over a non-blocking socket.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "flagscan/net/result.hpp"

// OpenSSL's handles, declared here so that users of this header need not include OpenSSL.
struct ssl_ctx_st;
struct ssl_st;

namespace flagscan {

// What a finished handshake negotiated, for the outputs ("TLSv1.3", "TLS_AES_256_GCM_SHA384",
// the certificate's subject CN or "").
struct TlsInfo {
    std::string version;
    std::string cipher;
    std::string subject_cn;
};

// The result of one non-blocking TLS (or plain socket) operation.
struct IoResult {
    enum class Status : unsigned char {
        done,        // handshake finished, or `bytes` moved
        want_read,   // call again when the socket is readable
        want_write,  // ... writable
        closed,      // the peer ended the stream (FIN, or TLS close_notify)
        failed,      // an error: `error` holds errno (ECONNRESET: the peer reset), 0 for a TLS protocol error
    };
    Status status = Status::done;
    std::size_t bytes = 0;
    int error = 0;
};

// A scanner's TLS client: no certificate verification (the peer's certificate is reported,
// not judged), every protocol version and cipher OpenSSL still knows (security level 0), so
// that an old server is still identified. One per driver; sessions share it.
class TlsContext {
public:
    static Result<TlsContext> create();
    ssl_ctx_st* get() const { return ctx_.get(); }

private:
    struct Free {
        void operator()(ssl_ctx_st* ctx) const;
    };
    explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
    std::unique_ptr<ssl_ctx_st, Free> ctx_;
};

// One TLS client session over a connected non-blocking socket it does not own. No SNI: a
// scanner addresses a port, not a name.
class TlsSession {
public:
    static Result<TlsSession> start(const TlsContext& context, int fd);

    IoResult handshake();
    IoResult read(std::span<char> into);
    IoResult write(std::span<const char> bytes);
    // After the handshake: what was negotiated and who the certificate names.
    TlsInfo info() const;

private:
    struct Free {
        void operator()(ssl_st* ssl) const;
    };
    explicit TlsSession(ssl_st* ssl) : ssl_(ssl) {}
    IoResult outcome(int ret, std::size_t moved);
    std::unique_ptr<ssl_st, Free> ssl_;
};

}  // namespace flagscan
