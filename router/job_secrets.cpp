#include "buddy/router/job_secrets.hpp"

#include <algorithm>

namespace buddy::router {

job_secrets::verdict job_secrets::check(std::uint64_t job, control::secret_view secret,
                                        bool kernel_checked) const noexcept {
    if (!kernel_checked && control::secret_missing(secret)) return verdict::missing;
    const auto it = bound_.find(job);  // the job id is no secret: finding it may take any time
    if (it == bound_.end()) return verdict::accepted;
    return control::secrets_equal(it->second.secret, secret) ? verdict::accepted : verdict::wrong;
}

void job_secrets::bind(std::uint64_t job, control::secret_view secret) {
    auto [it, fresh] = bound_.try_emplace(job);
    if (!fresh) return;
    std::copy(secret.begin(), secret.end(), it->second.secret.begin());
}

void job_secrets::job_ended(std::uint64_t job) {
    const auto it = bound_.find(job);
    if (it == bound_.end() || it->second.ended) return;
    it->second.ended = true;
    ended_.push_back(job);
    if (ended_.size() > keep_ended) {
        bound_.erase(ended_.front());
        ended_.pop_front();
    }
}

}  // namespace buddy::router
