// Result<T>: a value or a one-line error message, for parsers and setup steps that must not throw.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace flagscan {

struct Error {
    std::string message;
};

template <class T>
class Result {
public:
    Result(T value) : value_(std::move(value)) {}            // NOLINT: implicit by design
    Result(Error error) : error_(std::move(error.message)) {}  // NOLINT: implicit by design

    explicit operator bool() const { return value_.has_value(); }
    bool ok() const { return value_.has_value(); }
    const T& value() const& { return *value_; }
    T& value() & { return *value_; }
    T&& value() && { return std::move(*value_); }
    const T& operator*() const& { return *value_; }
    T& operator*() & { return *value_; }
    const T* operator->() const { return &*value_; }
    T* operator->() { return &*value_; }
    const std::string& error() const { return error_; }

private:
    std::optional<T> value_;
    std::string error_;
};

}  // namespace flagscan
