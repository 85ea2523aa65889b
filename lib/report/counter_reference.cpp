// The counter reference (docs/counters.md), generated from the lists so the
// docs cannot drift: tests/unit/test_report.cpp compares the file with this.
#include <sstream>

#include "buddy/report/writers.hpp"

namespace buddy::report {

namespace {
template <typename Counters>
void reference_table(std::ostringstream& s) {
    s << "| counter | unit | meaning |\n|---|---|---|\n";
    for (const auto& f : fields_of<Counters>())
        s << "| `" << f.name << "` | " << f.unit << " | " << f.description << " |\n";
}
}  // namespace

std::string counters_reference() {
    std::ostringstream s;
    s << "## Rank counters\n\n";
    reference_table<counters>(s);
    s << "\n## Router counters (per router thread, per job)\n\n";
    reference_table<router_counters>(s);
    return s.str();
}

}  // namespace buddy::report
