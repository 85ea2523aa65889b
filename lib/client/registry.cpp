// The handler registry and the facts about the main executable that function
// handlers are encoded against.
#include <link.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "buddy/detail/handlers.hpp"

namespace buddy::detail {

namespace {
std::vector<handler_entry>& registry() {
    // Function-local static: constructed on first use, which is during the static
    // initialisation of whichever translation unit registers first.
    static std::vector<handler_entry> table;
    return table;
}

int main_program_code(dl_phdr_info* info, std::size_t, void* out) {
    // The first object dl_iterate_phdr reports is the main program.
    auto* region = static_cast<code_region*>(out);
    region->base = info->dlpi_addr;
    bool found = false;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
        const std::uintptr_t begin = ph.p_vaddr;
        const std::uintptr_t end = ph.p_vaddr + ph.p_memsz;
        if (!found || begin < region->begin) region->begin = begin;
        if (!found || end > region->end) region->end = end;
        found = true;
    }
    return 1;  // stop after the main program
}
}  // namespace

std::uint16_t register_handler(trampoline_fn call, run_fn run, std::size_t run_payload,
                               std::string_view name) noexcept {
    auto& table = registry();
    if (table.size() >= 0xFFFF) {
        std::fprintf(stderr, "buddy: fatal: more than 65535 distinct handlers registered\n");
        std::abort();
    }
    table.push_back(handler_entry{call, run, run_payload, name});
    return static_cast<std::uint16_t>(table.size() - 1);
}

const handler_entry* handler_table() noexcept { return registry().data(); }
std::size_t handler_count() noexcept { return registry().size(); }

void malformed_payload(std::string_view handler, std::size_t bytes) {
    std::fprintf(stderr,
                 "buddy: fatal: a %zu-byte payload does not match the arguments of handler %.*s; "
                 "are all ranks running the same binary?\n",
                 bytes, static_cast<int>(handler.size()), handler.data());
    std::fflush(stderr);
    std::abort();
}

code_region find_main_code() noexcept {
    code_region r;
    dl_iterate_phdr(&main_program_code, &r);
    return r;
}

void function_outside_main_code(const void* fn) {
    std::fprintf(stderr,
                 "buddy: fatal: async() was given a handler function at %p that is not in the main "
                 "executable's code; handlers passed as function pointers must be defined in the main "
                 "program (a captureless lambda works from anywhere)\n",
                 fn);
    std::fflush(stderr);
    std::abort();
}

void function_offset_outside_code(std::uint64_t offset) {
    std::fprintf(stderr,
                 "buddy: fatal: a record names handler function offset 0x%llx, outside this executable's "
                 "code; are all ranks running the same binary?\n",
                 static_cast<unsigned long long>(offset));
    std::fflush(stderr);
    std::abort();
}

}  // namespace buddy::detail
