// RAII wrapper over one POSIX shared-memory object (shm_open + mmap).
//
// The creator calls shm_segment::create(), other processes shm_segment::open();
// the destructor unmaps but never unlinks: whoever created the name decides
// when it goes (shm_segment::unlink).  Errors throw std::system_error whose
// what() names the segment and the failing call.
#pragma once

#include <cstddef>
#include <string>

namespace buddy::ring {

class shm_segment {
public:
    shm_segment() noexcept = default;
    ~shm_segment();

    shm_segment(const shm_segment&) = delete;
    shm_segment& operator=(const shm_segment&) = delete;
    shm_segment(shm_segment&& other) noexcept;
    shm_segment& operator=(shm_segment&& other) noexcept;

    /// Create a new segment of `bytes` bytes (fails if `name` exists: O_EXCL,
    /// mode 0600).  If numa_node >= 0 and the system has NUMA, the pages are
    /// bound (preferred policy) to that node before anything touches them.
    /// The memory reads as zeros.  `name` must start with '/' and contain no
    /// other '/'.
    /// now: the pages are allocated at creation (posix_fallocate), so a full
    /// /dev/shm fails here, with ENOSPC, instead of raising SIGBUS at the
    /// first touch of a page it could not back; on_touch: pages come as they
    /// are first written (where the writer's NUMA policy puts them).
    enum class reserve { on_touch, now };
    static shm_segment create(const std::string& name, std::size_t bytes, int numa_node = -1,
                              reserve pages = reserve::on_touch);

    /// Map an existing segment read-write, with the size it has now (fstat).
    static shm_segment open(const std::string& name);

    /// Remove the name (mappings stay valid).  A missing name is not an error.
    static void unlink(const std::string& name);

    void* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    const std::string& name() const noexcept { return name_; }
    bool valid() const noexcept { return data_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

private:
    shm_segment(std::string name, void* data, std::size_t size) noexcept;
    void reset() noexcept;

    std::string name_;
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace buddy::ring
