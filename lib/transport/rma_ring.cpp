#include "buddy/transport/rma_ring.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace buddy::transport {

namespace {
constexpr std::byte side_magic[4] = {std::byte{'B'}, std::byte{'R'}, std::byte{'S'}, std::byte{'1'}};
constexpr std::size_t side_fixed_bytes = 4 + 4 + 8 + 8;

void put_le(std::byte* out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out[i] = static_cast<std::byte>(v >> (8 * i));
}
std::uint64_t get_le(std::span<const std::byte> in, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= std::to_integer<std::uint64_t>(in[at + i]) << (8 * i);
    return v;
}
}  // namespace

rma_ring_side rma_ring_side::of(const memory_region& region) {
    return rma_ring_side{reinterpret_cast<std::uintptr_t>(region.address()), region.bytes(), region.packed_rkey()};
}

std::vector<std::byte> rma_ring_side::to_bytes() const {
    std::byte head[side_fixed_bytes];
    for (std::size_t i = 0; i < 4; ++i) head[i] = side_magic[i];
    put_le(head + 4, rkey.size(), 4);
    put_le(head + 8, address, 8);
    put_le(head + 16, bytes, 8);
    std::vector<std::byte> out(std::begin(head), std::end(head));
    out.resize(side_fixed_bytes + rkey.size());
    std::copy(rkey.begin(), rkey.end(), out.begin() + side_fixed_bytes);
    return out;
}

rma_ring_side rma_ring_side::from_bytes(std::span<const std::byte> in) {
    const std::string what = "rma_ring_side: ";
    if (in.size() < side_fixed_bytes)
        throw std::invalid_argument(what + std::to_string(in.size()) + " bytes, shorter than the " +
                                    std::to_string(side_fixed_bytes) + "-byte header");
    for (std::size_t i = 0; i < 4; ++i)
        if (in[i] != side_magic[i]) throw std::invalid_argument(what + "bad magic (expected \"BRS1\")");
    const std::uint64_t key_bytes = get_le(in, 4, 4);
    if (key_bytes == 0) throw std::invalid_argument(what + "empty remote key");
    if (in.size() != side_fixed_bytes + key_bytes)
        throw std::invalid_argument(what + std::to_string(in.size()) + " bytes, expected " +
                                    std::to_string(side_fixed_bytes + key_bytes) + " for a " +
                                    std::to_string(key_bytes) + "-byte key");
    rma_ring_side side;
    side.address = get_le(in, 8, 8);
    side.bytes = get_le(in, 16, 8);
    if (side.address == 0 || side.address % ring::ring_alignment != 0)
        throw std::invalid_argument(what + "ring address " + ring::detail::hex(side.address) +
                                    " is not 64-byte aligned");
    const auto key = in.subspan(side_fixed_bytes);
    side.rkey.assign(key.begin(), key.end());
    return side;
}

remote_ring::remote_ring(endpoint& ep, const rma_ring_side& side, std::size_t expected_bytes)
    : address_(side.address) {
    if (side.bytes != expected_bytes)
        throw transport_error("ring of " + ep.peer_name() + " has " + std::to_string(side.bytes) +
                              " bytes, expected " + std::to_string(expected_bytes));
    if (side.address % ring::ring_alignment != 0)
        throw transport_error("ring of " + ep.peer_name() + " at " + ring::detail::hex(side.address) +
                              " is not 64-byte aligned");
    key_ = remote_key(ep, side.rkey);
}

}  // namespace buddy::transport
