// The unit tests' main, compiled once for all of them: doctest's
// implementation is most of a test file's compile time (37 of 41 s for one
// test under ASan at -O1 here), and every test links this instead.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
