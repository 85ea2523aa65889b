// The router's binding of job ids to secrets (router/job_secrets.hpp).
#include <doctest/doctest.h>

#include <cstring>

#include "buddy/router/job_secrets.hpp"

namespace ctl = buddy::control;
using buddy::router::job_secrets;

namespace {
struct secret {
    std::uint8_t b[ctl::secret_bytes] = {};
    explicit secret(std::uint8_t fill) { std::memset(b, fill, sizeof b); }
};
}  // namespace

TEST_CASE("a job id is bound to the first secret accepted; others are refused, other jobs unaffected") {
    job_secrets book;
    const secret a(0xA1), b(0xB2), none(0);
    CHECK(book.check(1, a.b, false) == job_secrets::verdict::accepted);  // not bound yet
    book.bind(1, a.b);
    CHECK(book.check(1, a.b, false) == job_secrets::verdict::accepted);
    CHECK(book.check(1, b.b, false) == job_secrets::verdict::wrong);
    CHECK(book.check(1, b.b, true) == job_secrets::verdict::wrong);  // the uid check does not unbind it
    book.bind(1, b.b);                                                // a second bind changes nothing
    CHECK(book.check(1, a.b, false) == job_secrets::verdict::accepted);
    CHECK(book.check(2, b.b, false) == job_secrets::verdict::accepted);  // another job: its own binding
    // No secret: refused over TCP, accepted (and bound) where the kernel checked the uid.
    CHECK(book.check(3, none.b, false) == job_secrets::verdict::missing);
    CHECK(book.check(3, none.b, true) == job_secrets::verdict::accepted);
    book.bind(3, none.b);
    CHECK(book.check(3, a.b, true) == job_secrets::verdict::wrong);
}

TEST_CASE("an ended job stays bound, among the most recent ended ones") {
    job_secrets book;
    const secret a(1), b(2);
    book.bind(7, a.b);
    book.job_ended(7);
    CHECK(book.check(7, b.b, false) == job_secrets::verdict::wrong);
    for (std::uint64_t j = 100; j < 100 + job_secrets::keep_ended; ++j) {
        book.bind(j, a.b);
        book.job_ended(j);
    }
    CHECK(book.bound() == job_secrets::keep_ended);
    CHECK(book.check(7, b.b, false) == job_secrets::verdict::accepted);  // forgotten: the oldest ended
    CHECK(book.check(100, b.b, false) == job_secrets::verdict::wrong);
}
