#include "buddy/engine/batch_pool.hpp"

#include <cstdlib>
#include <new>

namespace buddy::engine {

batch_pool::batch_pool(std::size_t standard_bytes) : standard_(standard_bytes) {}

batch_pool::~batch_pool() {
    for (batch_buffer* b : free_) {
        b->~batch_buffer();
        std::free(b);
    }
}

batch_buffer* batch_pool::allocate(std::size_t capacity) {
    const std::size_t total = (batch_buffer::descriptor_bytes + capacity + 63) & ~std::size_t{63};
    void* memory = std::aligned_alloc(64, total);
    if (!memory) throw std::bad_alloc();
    auto* b = new (memory) batch_buffer;
    b->capacity = capacity;
    return b;
}

batch_buffer* batch_pool::acquire(std::size_t bytes) {
    ++outstanding_;
    if (bytes <= standard_) {
        if (!free_.empty()) {
            batch_buffer* b = free_.back();
            free_.pop_back();
            return b;
        }
        return allocate(standard_);
    }
    return allocate(bytes);
}

void batch_pool::release(batch_buffer* b) noexcept {
    --outstanding_;
    if (b->capacity == standard_) {
        b->records = 0;
        b->bytes = 0;
        b->credited = false;
        free_.push_back(b);  // capacity reserved by the growth of in-flight buffers; rarely allocates
        return;
    }
    b->~batch_buffer();
    std::free(b);
}

transport::buffer_source batch_pool::as_source() noexcept {
    transport::buffer_source s;
    s.context = this;
    s.acquire = [](void* self, std::size_t bytes) -> std::byte* {
        return static_cast<batch_pool*>(self)->acquire(bytes)->data();
    };
    s.release = [](void* self, std::byte* data) {
        auto* b = reinterpret_cast<batch_buffer*>(data - batch_buffer::descriptor_bytes);
        static_cast<batch_pool*>(self)->release(b);
    };
    return s;
}

}  // namespace buddy::engine
