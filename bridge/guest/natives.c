/* Native functions behind the injected globals. Each one is a thin call into the host, which
 * checks capabilities and limits; values cross as JSON. The prelude (prelude.js) wraps them. */
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "guest.h"

/* A JS string argument as UTF-8; throws a TypeError naming `what` for anything else. */
static const char *string_arg(JSContext *ctx, JSValueConst value, size_t *len, const char *what) {
    if (!JS_IsString(value)) {
        JS_ThrowTypeError(ctx, "%s must be a string", what);
        return NULL;
    }
    return JS_ToCStringLen(ctx, len, value);
}

/* JSON text of `value` as a C string; *json = NULL when it has no JSON form (undefined, functions).
 * Returns -1 with a pending exception when JSON.stringify throws (cycles, BigInt). */
static int to_json(JSContext *ctx, JSValueConst value, const char **json, size_t *len) {
    *json = NULL;
    *len = 0;
    if (JS_IsUndefined(value)) return 0;
    JSValue text = JS_JSONStringify(ctx, value, JS_UNDEFINED, JS_UNDEFINED);
    if (JS_IsException(text)) return -1;
    if (JS_IsString(text)) *json = JS_ToCStringLen(ctx, len, text);
    JS_FreeValue(ctx, text);
    return 0;
}

/* Reads the host's response of `len` bytes and parses it as JSON. */
static JSValue read_json_response(JSContext *ctx, int32_t len) {
    char *buf = malloc((size_t)len + 1);
    if (!buf) host_out_of_memory();
    host_response_read(buf);
    buf[len] = '\0';
    JSValue value = JS_ParseJSON(ctx, buf, (size_t)len, "<state>");
    free(buf);
    return value;
}

static JSValue state_get(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t key_len;
    const char *key = string_arg(ctx, argv[0], &key_len, "a $state key");
    if (!key) return JS_EXCEPTION;
    int32_t len = host_state_get(key, (int32_t)key_len);
    JS_FreeCString(ctx, key);
    if (len < 0) return JS_UNDEFINED;
    return read_json_response(ctx, len);
}

static JSValue state_set(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t key_len, json_len;
    const char *json;
    const char *key = string_arg(ctx, argv[0], &key_len, "a $state key");
    if (!key) return JS_EXCEPTION;
    if (to_json(ctx, argv[1], &json, &json_len) < 0) {
        JS_FreeCString(ctx, key);
        return JS_EXCEPTION;
    }
    host_state_set(key, (int32_t)key_len, json, json ? (int32_t)json_len : -1);
    JS_FreeCString(ctx, key);
    if (json) JS_FreeCString(ctx, json);
    return JS_UNDEFINED;
}

static JSValue state_delete(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t key_len;
    const char *key = string_arg(ctx, argv[0], &key_len, "a $state key");
    if (!key) return JS_EXCEPTION;
    host_state_delete(key, (int32_t)key_len);
    JS_FreeCString(ctx, key);
    return JS_UNDEFINED;
}

static JSValue state_keys(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    return read_json_response(ctx, host_state_keys());
}

static JSValue emit(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t name_len, json_len;
    const char *json;
    const char *name = string_arg(ctx, argv[0], &name_len, "the event name");
    if (!name) return JS_EXCEPTION;
    if (to_json(ctx, argv[1], &json, &json_len) < 0) {
        JS_FreeCString(ctx, name);
        return JS_EXCEPTION;
    }
    host_emit(name, (int32_t)name_len, json, json ? (int32_t)json_len : -1);
    JS_FreeCString(ctx, name);
    if (json) JS_FreeCString(ctx, json);
    return JS_UNDEFINED;
}

static JSValue view(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t type_len, id_len = 0, json_len;
    const char *json, *id = NULL;
    const char *type = string_arg(ctx, argv[0], &type_len, "the view command type");
    if (!type) return JS_EXCEPTION;
    if (!JS_IsUndefined(argv[1])) {
        id = string_arg(ctx, argv[1], &id_len, "the component id");
        if (!id) goto fail;
    }
    if (to_json(ctx, argv[2], &json, &json_len) < 0) goto fail;
    host_view(type, (int32_t)type_len, id, id ? (int32_t)id_len : -1, json, json ? (int32_t)json_len : -1);
    JS_FreeCString(ctx, type);
    if (id) JS_FreeCString(ctx, id);
    if (json) JS_FreeCString(ctx, json);
    return JS_UNDEFINED;
fail:
    JS_FreeCString(ctx, type);
    if (id) JS_FreeCString(ctx, id);
    return JS_EXCEPTION;
}

static JSValue log_message(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    int32_t level;
    size_t len;
    if (JS_ToInt32(ctx, &level, argv[0])) return JS_EXCEPTION;
    const char *msg = string_arg(ctx, argv[1], &len, "the log message");
    if (!msg) return JS_EXCEPTION;
    host_log(level, msg, (int32_t)len);
    JS_FreeCString(ctx, msg);
    return JS_UNDEFINED;
}

/* Pending $ext calls, oldest first: the host suspends on the head and settles it on resume. */
struct pending_call {
    JSValue resolve, reject;
};
static struct pending_call *pending;
static size_t pending_len, pending_cap;

size_t nx_pending_count(void) { return pending_len; }

int nx_pending_push(JSContext *ctx, JSValue resolve, JSValue reject) {
    if (pending_len == pending_cap) {
        size_t cap = pending_cap ? pending_cap * 2 : 4;
        struct pending_call *grown = realloc(pending, cap * sizeof(*grown));
        if (!grown) host_out_of_memory();
        pending = grown;
        pending_cap = cap;
    }
    pending[pending_len++] = (struct pending_call){resolve, reject};
    return 0;
}

/* Settles the oldest pending call with `value` (consumed). Returns -1 with a pending exception
 * when there is none or the settle function throws. */
int nx_pending_settle(JSContext *ctx, int ok, JSValue value) {
    if (pending_len == 0) {
        JS_FreeValue(ctx, value);
        JS_ThrowInternalError(ctx, "no $ext call is waiting to be resumed");
        return -1;
    }
    struct pending_call call = pending[0];
    memmove(pending, pending + 1, (pending_len - 1) * sizeof(*pending));
    pending_len--;
    JSValue result = JS_Call(ctx, ok ? call.resolve : call.reject, JS_UNDEFINED, 1, (JSValueConst *)&value);
    JS_FreeValue(ctx, value);
    JS_FreeValue(ctx, call.resolve);
    JS_FreeValue(ctx, call.reject);
    if (JS_IsException(result)) return -1;
    JS_FreeValue(ctx, result);
    return 0;
}

static JSValue ext_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t name_len, method_len, json_len;
    const char *json = NULL;
    const char *name = string_arg(ctx, argv[0], &name_len, "the extension name");
    const char *method = name ? string_arg(ctx, argv[1], &method_len, "the extension method") : NULL;
    JSValue result = JS_EXCEPTION;
    if (!name || !method) goto done;
    if (to_json(ctx, argv[2], &json, &json_len) < 0) goto done;
    if (host_ext_call(name, (int32_t)name_len, method, (int32_t)method_len, json,
                      json ? (int32_t)json_len : -1) != 0) {
        JS_ThrowTypeError(ctx, "$ext.%s.%s is not a registered extension method", name, method);
        goto done;
    }
    JSValue funcs[2];
    result = JS_NewPromiseCapability(ctx, funcs);
    if (!JS_IsException(result)) nx_pending_push(ctx, funcs[0], funcs[1]);
done:
    if (name) JS_FreeCString(ctx, name);
    if (method) JS_FreeCString(ctx, method);
    if (json) JS_FreeCString(ctx, json);
    return result;
}

/* Promise rejections nobody handled: a handler that lets one go fails like a Node process would. */
#define MAX_TRACKED_REJECTIONS 16
static struct {
    JSValue promise, reason;
} unhandled[MAX_TRACKED_REJECTIONS];
static size_t unhandled_len;

void nx_rejection_tracker(JSContext *ctx, JSValueConst promise, JSValueConst reason, bool is_handled,
                          void *opaque) {
    (void)opaque;
    if (is_handled) {
        for (size_t i = 0; i < unhandled_len; i++) {
            if (JS_VALUE_GET_PTR(unhandled[i].promise) == JS_VALUE_GET_PTR(promise)) {
                JS_FreeValue(ctx, unhandled[i].promise);
                JS_FreeValue(ctx, unhandled[i].reason);
                unhandled[i] = unhandled[--unhandled_len];
                return;
            }
        }
        return;
    }
    if (unhandled_len == MAX_TRACKED_REJECTIONS) return;
    unhandled[unhandled_len].promise = JS_DupValue(ctx, promise);
    unhandled[unhandled_len].reason = JS_DupValue(ctx, reason);
    unhandled_len++;
}

/* The oldest rejection still unhandled, other than the handler's own promise. */
int nx_take_unhandled_rejection(JSContext *ctx, JSValue *reason) {
    for (size_t i = 0; i < unhandled_len; i++) {
        if (JS_VALUE_GET_PTR(unhandled[i].promise) == JS_VALUE_GET_PTR(nx.handler)) continue;
        *reason = JS_DupValue(ctx, unhandled[i].reason);
        return 1;
    }
    return 0;
}

void nx_reset_execution_state(JSContext *ctx) {
    /* Each execution starts from a fresh instance, so these are empty; resetting keeps a reused
     * instance (the compile path) correct too. */
    for (size_t i = 0; i < unhandled_len; i++) {
        JS_FreeValue(ctx, unhandled[i].promise);
        JS_FreeValue(ctx, unhandled[i].reason);
    }
    unhandled_len = 0;
}

/* Math.random: xoroshiro128+ seeded from the host's CSPRNG at the start of every execution (the
 * engine's own generator would replay the state frozen in the pre-initialised snapshot). */
static uint64_t rng[2];

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_random(void) {
    uint64_t s0 = rng[0], s1 = rng[1], result = s0 + s1;
    s1 ^= s0;
    rng[0] = rotl(s0, 24) ^ s1 ^ (s1 << 16);
    rng[1] = rotl(s1, 37);
    return result;
}

void nx_seed_random(void) {
    host_random_seed(rng);
    if (rng[0] == 0 && rng[1] == 0) rng[0] = 1;
}

static JSValue math_random(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    return JS_NewFloat64(ctx, (double)(next_random() >> 11) * 0x1.0p-53);
}

void nx_install_random(JSContext *ctx) {
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue math = JS_GetPropertyStr(ctx, global, "Math");
    JS_DefinePropertyValueStr(ctx, math, "random", JS_NewCFunction(ctx, math_random, "random", 0),
                              JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    JS_FreeValue(ctx, math);
    JS_FreeValue(ctx, global);
}

/* crypto.getRandomValues(integerTypedArray): at most 65536 bytes, straight from the host. */
static JSValue random_fill(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    int type = JS_GetTypedArrayType(argv[0]);
    if (type < 0 || type >= JS_TYPED_ARRAY_FLOAT16)
        return JS_ThrowTypeError(ctx, "crypto.getRandomValues needs an integer typed array");
    size_t offset, length, element;
    JSValue buffer = JS_GetTypedArrayBuffer(ctx, argv[0], &offset, &length, &element);
    if (JS_IsException(buffer)) return buffer;
    size_t size;
    uint8_t *data = JS_GetArrayBuffer(ctx, &size, buffer);
    JS_FreeValue(ctx, buffer);
    if (!data && length > 0) return JS_ThrowTypeError(ctx, "the typed array's buffer is detached");
    if (length > 65536)
        return JS_ThrowRangeError(ctx, "crypto.getRandomValues gives at most 65536 bytes at a time, not %zu",
                                  length);
    if (length > 0) host_random_bytes(data + offset, (int32_t)length);
    return JS_DupValue(ctx, argv[0]);
}

static const JSCFunctionListEntry native_functions[] = {
    JS_CFUNC_DEF("randomFill", 1, random_fill),
    JS_CFUNC_DEF("stateGet", 1, state_get),
    JS_CFUNC_DEF("stateSet", 2, state_set),
    JS_CFUNC_DEF("stateDelete", 1, state_delete),
    JS_CFUNC_DEF("stateKeys", 0, state_keys),
    JS_CFUNC_DEF("emit", 2, emit),
    JS_CFUNC_DEF("view", 3, view),
    JS_CFUNC_DEF("log", 2, log_message),
    JS_CFUNC_DEF("extCall", 3, ext_call),
};

/* The object handed to the prelude, which keeps the functions in its closure. */
JSValue nx_natives(JSContext *ctx) {
    JSValue natives = JS_NewObjectProto(ctx, JS_NULL);
    JS_SetPropertyFunctionList(ctx, natives, native_functions,
                               sizeof(native_functions) / sizeof(native_functions[0]));
    return natives;
}
