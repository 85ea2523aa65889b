#include "buddy/router/hello_validation.hpp"

#include "buddy/config.hpp"
#include "buddy/ring/spsc_ring.hpp"
#include "buddy/router/log.hpp"
#include "buddy/wire/batch.hpp"
#include "buddy/detail/record.hpp"

namespace buddy::router {

std::string hello_settings_refusal(const control::hello& h) {
    using kr = knob_range;
    if (h.job == 0) return "job id 0";
    if ((h.flags & ~(control::hello_flag_checksum | control::hello_flag_rma)) != 0 || h.reserved != 0) return "unknown hello flags";
    if (h.job_size == 0 || h.rank >= h.job_size)
        return "rank " + std::to_string(h.rank) + " outside a job of " + std::to_string(h.job_size);
    if (h.ring_bytes < kr::ring_bytes_min || h.ring_bytes > kr::ring_bytes_max || (h.ring_bytes & (h.ring_bytes - 1)) != 0)
        return "ring size " + std::to_string(h.ring_bytes) + " is not a power of two in range";
    if (h.granularity < kr::granularity_min || h.granularity > kr::granularity_max) return "granularity out of range";
    if (h.depth < kr::depth_min || h.depth > kr::depth_max) return "depth out of range";
    if (h.max_message < kr::max_message_min || h.max_message > kr::max_message_max) return "max-message out of range";
    // Room for the checksum trailer whether or not the job uses it: one rule.
    if (wire::record_bytes_for(h.max_message) + wire::batch_header_bytes + wire::checksum_trailer_bytes >
        ring::max_chunk_payload_for(h.ring_bytes))
        return "rings of " + std::to_string(h.ring_bytes) + " bytes cannot hold a message of max-message " +
               std::to_string(h.max_message) + " bytes (ring-bytes must be at least 2x max-message + 128)";
    return {};
}

std::string hello_job_refusal(const control::hello& h, const job_entry& known) {
    if (known.s.size != h.job_size || known.s.granularity != h.granularity || known.s.depth != h.depth ||
        known.s.checksum != ((h.flags & control::hello_flag_checksum) != 0))
        return "job " + hex_id(h.job) + " is already known with other settings";
    if (known.ranks.count(h.rank)) return "rank " + std::to_string(h.rank) + " of job " + hex_id(h.job) + " is already attached";
    if (known.active) return "job " + hex_id(h.job) + " is already running; late ranks cannot join";
    // Acquire: pairs with job_health::fail()'s release (reason() then locks anyway).
    if (known.health->failed.load(std::memory_order_acquire))
        return "job " + hex_id(h.job) + " has failed: " + known.health->reason();
    return {};
}

}  // namespace buddy::router
