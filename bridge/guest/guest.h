/* State shared by the guest's translation units. Everything here lives in linear memory, so it is
 * part of the pre-initialised snapshot and every execution starts from the same values. */
#ifndef NEXUS_GUEST_H
#define NEXUS_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"

/* The handler body is wrapped in an async function on the same line, so line numbers in the
 * handler's own source are unchanged and columns on line 1 are shifted by the prefix's length.
 * Two more wrappers of the same length are compiled as checks; any valid function body is valid,
 * unchanged, in all three. A body that ends the function early, to run code outside it, must be
 * followed by something after that `}`: an async function declaration allows anything but a
 * `,` or another `}` there, an object literal's method nothing but those — no text is both. */
#define NX_WRAP_PREFIX "(async function (){"
#define NX_WRAP_SUFFIX "\n})"
#define NX_DECLARATION_PREFIX "async function _(){"
#define NX_DECLARATION_SUFFIX "\n}"
#define NX_METHOD_PREFIX "({async method  (){"
#define NX_METHOD_SUFFIX "\n}})"
#define NX_FILENAME "handler.js"

struct nx_guest {
    JSRuntime *rt;
    JSContext *compiler; /* has eval: only ever compiles, never runs handler code */
    JSContext *sandbox;  /* no eval, no Function constructor: runs handlers */
    JSValue begin;       /* prelude hook that installs $args, $scope and $ext */
    JSValue handler;     /* the handler's promise while it runs or is suspended */
    uint8_t *output;
    size_t output_len;
};

extern struct nx_guest nx;

/* alloc.c */
extern const JSMallocFunctions nx_malloc_functions;

/* natives.c */
JSValue nx_natives(JSContext *ctx);
void nx_install_random(JSContext *ctx);
void nx_seed_random(void);
int nx_pending_push(JSContext *ctx, JSValue resolve, JSValue reject);
int nx_pending_settle(JSContext *ctx, int ok, JSValue value);
size_t nx_pending_count(void);
void nx_rejection_tracker(JSContext *ctx, JSValueConst promise, JSValueConst reason, bool is_handled,
                          void *opaque);
int nx_take_unhandled_rejection(JSContext *ctx, JSValue *reason);
void nx_reset_execution_state(JSContext *ctx);

/* output.c */
void nx_set_output(const void *data, size_t len);
int nx_output_error(JSContext *ctx, JSValue exception, int status);
int nx_output_message(const char *name, const char *message, int status);

/* compile.c */
JSValue nx_compile_source(const char *src, size_t len, uint8_t **bytecode, size_t *bytecode_len);
JSValue nx_load_bytecode(JSContext *ctx, const uint8_t *bytecode, size_t len);

#endif
