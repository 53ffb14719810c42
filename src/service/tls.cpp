// TLS for service probes: OpenSSL over the driver's non-blocking sockets, no verification.
#include "flagscan/service/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>

#include <array>
#include <cerrno>
#include <ctime>

namespace flagscan {
namespace {

// OpenSSL writes to the socket with write(): a peer that has gone would raise SIGPIPE and end
// the scan. Around each OpenSSL call SIGPIPE is blocked in this thread, and one it raised is
// taken off the pending set before the mask is restored (the error comes back as EPIPE).
class SigpipeBlock {
public:
    SigpipeBlock() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        already_pending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~SigpipeBlock() {
        const int saved = errno;
        sigset_t pending;
        sigpending(&pending);
        if (!already_pending_ && sigismember(&pending, SIGPIPE) == 1) {
            const timespec none{0, 0};
            sigtimedwait(&pipe_, nullptr, &none);
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
        errno = saved;
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
    sigset_t pipe_{};
    sigset_t old_{};
    bool already_pending_ = false;
};

std::string subject_cn(SSL* ssl) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) return {};
    std::array<char, 256> name{};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name.data(),
                                            static_cast<int>(name.size()));
    X509_free(cert);
    return n > 0 ? std::string(name.data(), static_cast<std::size_t>(n)) : std::string{};
}

}  // namespace

void TlsContext::Free::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }
void TlsSession::Free::operator()(ssl_st* ssl) const { SSL_free(ssl); }

Result<TlsContext> TlsContext::create() {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) return Error{"cannot create a TLS context (OpenSSL)"};
    TlsContext context{ctx};
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, 0);  // the lowest this OpenSSL was built with
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    // A peer that closes without close_notify is an ordinary end of stream here, not an error.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return context;
}

Result<TlsSession> TlsSession::start(const TlsContext& context, int fd) {
    SSL* ssl = SSL_new(context.get());
    if (ssl == nullptr) return Error{"cannot create a TLS session (OpenSSL)"};
    TlsSession session{ssl};
    if (SSL_set_fd(ssl, fd) != 1) return Error{"cannot attach a TLS session to its socket"};
    SSL_set_connect_state(ssl);
    return session;
}

IoResult TlsSession::outcome(int ret, std::size_t moved) {
    using S = IoResult::Status;
    if (ret > 0) return {S::done, moved, 0};
    const int saved = errno;
    switch (SSL_get_error(ssl_.get(), ret)) {
        case SSL_ERROR_WANT_READ: return {S::want_read, 0, 0};
        case SSL_ERROR_WANT_WRITE: return {S::want_write, 0, 0};
        case SSL_ERROR_ZERO_RETURN: return {S::closed, 0, 0};
        case SSL_ERROR_SYSCALL:
            ERR_clear_error();
            return saved == 0 ? IoResult{S::closed, 0, 0} : IoResult{S::failed, 0, saved};
        default:
            ERR_clear_error();
            return {S::failed, 0, 0};
    }
}

IoResult TlsSession::handshake() {
    const SigpipeBlock block;
    ERR_clear_error();
    errno = 0;
    return outcome(SSL_connect(ssl_.get()), 0);
}

IoResult TlsSession::read(std::span<char> into) {
    const SigpipeBlock block;
    ERR_clear_error();
    errno = 0;
    std::size_t got = 0;
    const int ret = SSL_read_ex(ssl_.get(), into.data(), into.size(), &got);
    return outcome(ret, got);
}

IoResult TlsSession::write(std::span<const char> bytes) {
    const SigpipeBlock block;
    ERR_clear_error();
    errno = 0;
    std::size_t sent = 0;
    const int ret = SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &sent);
    return outcome(ret, sent);
}

TlsInfo TlsSession::info() const {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get());
    return TlsInfo{SSL_get_version(ssl_.get()), cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "",
                   subject_cn(ssl_.get())};
}

}  // namespace flagscan
