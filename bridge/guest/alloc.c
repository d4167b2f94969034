/* QuickJS's allocator. quickjs-ng's default allocator cannot size allocations on WASI, so its
 * memory limit would never trigger; these functions use wasi-libc's malloc_usable_size instead.
 * When the heap cannot grow (the host caps linear memory) the host is told, and it ends the
 * execution with MEMORY_LIMIT rather than letting QuickJS limp on near the edge. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "guest.h"

static void *nx_calloc(void *opaque, size_t count, size_t size) {
    (void)opaque;
    void *ptr = calloc(count, size);
    if (!ptr && count && size) host_out_of_memory();
    return ptr;
}

static void *nx_malloc(void *opaque, size_t size) {
    (void)opaque;
    void *ptr = malloc(size);
    if (!ptr && size) host_out_of_memory();
    return ptr;
}

static void nx_free(void *opaque, void *ptr) {
    (void)opaque;
    free(ptr);
}

static void *nx_realloc(void *opaque, void *ptr, size_t size) {
    (void)opaque;
    void *grown = realloc(ptr, size);
    if (!grown && size) host_out_of_memory();
    return grown;
}

static size_t nx_usable_size(const void *ptr) { return malloc_usable_size((void *)ptr); }

const JSMallocFunctions nx_malloc_functions = {
    .js_calloc = nx_calloc,
    .js_malloc = nx_malloc,
    .js_free = nx_free,
    .js_realloc = nx_realloc,
    .js_malloc_usable_size = nx_usable_size,
};

/* Buffers the host fills (handler source, bytecode, context JSON, resume values). */
NX_EXPORT("nx_alloc") void *nx_alloc(int32_t size) {
    void *ptr = malloc(size > 0 ? (size_t)size : 1);
    if (!ptr) host_out_of_memory();
    return ptr;
}

NX_EXPORT("nx_free") void nx_dealloc(void *ptr) { free(ptr); }
