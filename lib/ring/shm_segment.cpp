#include "buddy/ring/shm_segment.hpp"

#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <system_error>
#include <utility>

namespace buddy::ring {

namespace {

[[noreturn]] void fail(int err, const std::string& name, const char* call) {
    throw std::system_error(err, std::generic_category(),
                            "shm_segment '" + name + "': " + call + " failed");
}

void check_name(const std::string& name) {
    if (name.size() < 2 || name.front() != '/')
        fail(EINVAL, name, "name check (the name must start with '/' and have at least one more character)");
    if (name.find('/', 1) != std::string::npos)
        fail(EINVAL, name, "name check (no '/' allowed after the first character)");
    if (name.size() > NAME_MAX)
        fail(ENAMETOOLONG, name, "name check");
}

// Closes a descriptor on every exit path.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

// Bind the (untouched) pages of a mapping to one NUMA node.  Systems without
// NUMA support, or containers that forbid memory policies, are tolerated.
void bind_to_node(void* p, std::size_t bytes, int node, const std::string& name) {
    if (::numa_available() < 0) return;
    if (node > ::numa_max_node())
        fail(EINVAL, name,
             ("mbind (NUMA node " + std::to_string(node) + " does not exist; highest is " +
              std::to_string(::numa_max_node()) + ")")
                 .c_str());
    bitmask* mask = ::numa_allocate_nodemask();
    if (mask == nullptr) fail(ENOMEM, name, "numa_allocate_nodemask");
    ::numa_bitmask_setbit(mask, static_cast<unsigned>(node));
    // MPOL_PREFERRED rather than MPOL_BIND: if the node runs out of memory
    // the kernel falls back to another node instead of killing the process.
    const long rc = ::mbind(p, bytes, MPOL_PREFERRED, mask->maskp, mask->size + 1, 0);
    const int err = errno;
    ::numa_free_nodemask(mask);
    if (rc != 0 && err != ENOSYS && err != EPERM) fail(err, name, "mbind");
}

}  // namespace

shm_segment::shm_segment(std::string name, void* data, std::size_t size) noexcept
    : name_(std::move(name)), data_(data), size_(size) {}

shm_segment::~shm_segment() { reset(); }

shm_segment::shm_segment(shm_segment&& other) noexcept
    : name_(std::move(other.name_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

shm_segment& shm_segment::operator=(shm_segment&& other) noexcept {
    if (this != &other) {
        reset();
        name_ = std::move(other.name_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void shm_segment::reset() noexcept {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
}

shm_segment shm_segment::create(const std::string& name, std::size_t bytes, int numa_node, reserve pages) {
    check_name(name);
    if (bytes == 0) fail(EINVAL, name, "create (size 0)");
    const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) fail(errno, name, "shm_open(O_CREAT|O_EXCL)");
    fd_guard guard{fd};
    // From here on the name is ours: remove it again if we cannot finish.
    try {
        if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) fail(errno, name, "ftruncate");
        if (pages == reserve::now) {
            const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));  // returns the error, not errno
            if (err != 0) fail(err, name, "posix_fallocate (reserving its pages)");
        }
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) fail(errno, name, "mmap");
        shm_segment seg(name, p, bytes);
        if (numa_node >= 0) bind_to_node(p, bytes, numa_node, name);
        return seg;
    } catch (...) {
        ::shm_unlink(name.c_str());
        throw;
    }
}

shm_segment shm_segment::open(const std::string& name) {
    check_name(name);
    const int fd = ::shm_open(name.c_str(), O_RDWR, 0);
    if (fd < 0) fail(errno, name, "shm_open");
    fd_guard guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail(errno, name, "fstat");
    // Segments are 0600 and this user's (create()); anything else was not made
    // by a router of ours and is not mapped.
    if (st.st_uid != ::geteuid())
        fail(EPERM, name, ("open (the segment belongs to uid " + std::to_string(st.st_uid) + ", not to this user)").c_str());
    if ((st.st_mode & 077) != 0)
        fail(EPERM, name, "open (the segment is accessible to other users; ours are mode 0600)");
    if (st.st_size <= 0) fail(EINVAL, name, "open (segment has size 0: its creator has not sized it yet)");
    const auto bytes = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) fail(errno, name, "mmap");
    return shm_segment(name, p, bytes);
}

void shm_segment::unlink(const std::string& name) {
    check_name(name);
    if (::shm_unlink(name.c_str()) != 0 && errno != ENOENT) fail(errno, name, "shm_unlink");
}

}  // namespace buddy::ring
