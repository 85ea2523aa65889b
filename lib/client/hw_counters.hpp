// A rank's hardware counters for the report: a libpfm4 session over the
// comm's life (lib/report/hw), summarised into a hw_report.  Builds without
// libpfm4 report `measured` with the reason that none was built in.
#pragma once

#include <memory>

#include "buddy/stats.hpp"

namespace buddy::detail {

struct hw_counters {
    hw_counters();  ///< starts counting (this process, its threads, its children)
    ~hw_counters();
    hw_counters(const hw_counters&) = delete;
    hw_counters& operator=(const hw_counters&) = delete;
    /// Stops counting (the first call) and returns the result.
    hw_report finish();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    bool finished_ = false;
    hw_report result_;
};

}  // namespace buddy::detail
