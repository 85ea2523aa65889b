// The words of the knobs that take one word (placement, route, wait): one
// table per enum.  to_string() of the public header reads it, the knob parser
// accepts exactly its words, and the "one of ..." text of describe(), the
// flags' help and the README is joined from it, so a new value is spelled in
// one place.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

#include "buddy/config.hpp"

namespace buddy::knobs {

template <typename E>
struct words_of;  // specialised below: `words`, an array of {value, word}

template <>
struct words_of<placement> {
    static constexpr std::pair<placement, std::string_view> words[] = {
        {placement::inproc, "inproc"}, {placement::host, "host"}, {placement::dpu, "dpu"}};
};

template <>
struct words_of<wait_policy> {
    static constexpr std::pair<wait_policy, std::string_view> words[] = {
        {wait_policy::automatic, "auto"}, {wait_policy::spin, "spin"}, {wait_policy::yield, "yield"}};
};

template <>
struct words_of<routing> {
    static constexpr std::pair<routing, std::string_view> words[] = {{routing::direct, "direct"},
                                                                     {routing::mesh2d, "mesh2d"}};
};

/// The word of `v` ("unknown" for a value outside the enum's table).
template <typename E>
constexpr std::string_view word_of(E v) noexcept {
    for (const auto& [value, word] : words_of<E>::words)
        if (value == v) return word;
    return "unknown";
}

/// The value named `word`; false if no value has that word.
template <typename E>
constexpr bool value_of(std::string_view word, E& out) noexcept {
    for (const auto& [value, w] : words_of<E>::words)
        if (w == word) {
            out = value;
            return true;
        }
    return false;
}

/// "inproc, host or dpu": the accepted words as describe() and --help list them.
template <typename E>
struct word_list {
private:
    static constexpr auto joined = [] {
        std::array<char, 128> text{};
        std::size_t n = 0;
        const auto append = [&](std::string_view s) {
            for (const char c : s) text[n++] = c;
        };
        const std::size_t count = std::size(words_of<E>::words);
        for (std::size_t i = 0; i < count; ++i) {
            if (i != 0) append(i + 1 == count ? " or " : ", ");
            append(words_of<E>::words[i].second);
        }
        return std::pair{text, n};
    }();

public:
    static constexpr std::string_view text{joined.first.data(), joined.second};
};

}  // namespace buddy::knobs
