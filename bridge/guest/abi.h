/*
 * The ABI between the wasmtime host (bridge/src) and this guest. docs/bridge.md describes it;
 * bridge/src/guest.rs mirrors every constant here.
 *
 * Strings cross the boundary as (pointer, length) pairs in guest memory, UTF-8, not
 * NUL-terminated. A length of -1 means "absent" (JavaScript undefined). Values cross as JSON text.
 */
#ifndef NEXUS_ABI_H
#define NEXUS_ABI_H

#include <stdint.h>

#define NX_IMPORT(name) __attribute__((import_module("nexus"), import_name(name)))
#define NX_EXPORT(name) __attribute__((export_name(name)))

/* Outcome of nx_compile / nx_run / nx_resume. */
enum nx_status {
    NX_DONE = 0,          /* the handler settled: output = JSON of the return value, empty for undefined */
    NX_THREW = 1,         /* the handler threw or rejected: output = error record */
    NX_SUSPENDED = 2,     /* waiting on the oldest pending $ext call the host recorded */
    NX_SYNTAX_ERROR = 3,  /* the source did not compile: output = error record */
    NX_BAD_BYTECODE = 4,  /* the bytecode could not be loaded: output = error record */
    NX_COMPILED = 5,      /* nx_compile succeeded: output = bytecode */
};

/* nx_run's first argument. */
enum nx_code_kind { NX_SOURCE = 0, NX_BYTECODE = 1 };

/* The error record is "name\0message\0stack" (stack may be empty). */

/* $log levels. */
enum nx_log_level { NX_LOG_DEBUG = 0, NX_LOG_INFO = 1, NX_LOG_WARN = 2, NX_LOG_ERROR = 3 };

/* Host functions. Capability denials and exceeded limits trap inside the host call: the handler
 * cannot catch them and the instance is discarded. */
NX_IMPORT("state_get") int32_t host_state_get(const char *key, int32_t key_len);
NX_IMPORT("state_set") void host_state_set(const char *key, int32_t key_len, const char *json, int32_t json_len);
NX_IMPORT("state_delete") void host_state_delete(const char *key, int32_t key_len);
NX_IMPORT("state_keys") int32_t host_state_keys(void);
NX_IMPORT("emit") void host_emit(const char *name, int32_t name_len, const char *json, int32_t json_len);
NX_IMPORT("view") void host_view(const char *type, int32_t type_len, const char *id, int32_t id_len,
                                 const char *json, int32_t json_len);
NX_IMPORT("log") void host_log(int32_t level, const char *msg, int32_t msg_len);
/* Returns 0 when the call was recorded (the handler will suspend on it), 1 when the extension or
 * method is not in the registry. */
NX_IMPORT("ext_call") int32_t host_ext_call(const char *name, int32_t name_len, const char *method,
                                            int32_t method_len, const char *json, int32_t json_len);
/* Copies the response of the last state_get / state_keys call (its length was the return value). */
NX_IMPORT("response_read") void host_response_read(char *dst);
/* Writes 16 bytes from the host's CSPRNG at `state` (the seed of Math.random). Not a handler's
 * host call: the guest makes it once at the start of every execution. */
NX_IMPORT("random_seed") void host_random_seed(uint64_t *state);
/* Fills `len` bytes (at most 65536) at `dst` from the host's CSPRNG (crypto.getRandomValues). */
NX_IMPORT("random_bytes") void host_random_bytes(uint8_t *dst, int32_t len);
/* Traps: the guest's heap cannot grow any further. */
NX_IMPORT("out_of_memory") void host_out_of_memory(void);

#endif
