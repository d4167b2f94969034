/* Handler source → bytecode (in the compiler context, the only one with eval) and bytecode →
 * a function in the sandbox context. Compiling in a separate context keeps eval out of the
 * sandbox altogether, and reading the bytecode back binds the function to the sandbox realm. */
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "guest.h"

/* Compiles `src` between `prefix` and `suffix`; returns the script or JS_EXCEPTION. */
static JSValue compile_wrapped(const char *prefix, const char *suffix, const char *src, size_t len) {
    size_t prefix_len = strlen(prefix), suffix_len = strlen(suffix);
    char *wrapped = malloc(prefix_len + len + suffix_len + 1);
    if (!wrapped) host_out_of_memory();
    memcpy(wrapped, prefix, prefix_len);
    memcpy(wrapped + prefix_len, src, len);
    memcpy(wrapped + prefix_len + len, suffix, suffix_len + 1);
    JSValue script = JS_Eval(nx.compiler, wrapped, prefix_len + len + suffix_len, NX_FILENAME,
                             JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
    free(wrapped);
    return script;
}

/* Returns JS_UNDEFINED and the bytecode on success, or the compiler's exception. */
JSValue nx_compile_source(const char *src, size_t len, uint8_t **bytecode, size_t *bytecode_len) {
    JSContext *ctx = nx.compiler;
    JSValue script = compile_wrapped(NX_WRAP_PREFIX, NX_WRAP_SUFFIX, src, len);
    if (JS_IsException(script)) return JS_GetException(ctx);

    static const char *const checks[][2] = {
        {NX_DECLARATION_PREFIX, NX_DECLARATION_SUFFIX},
        {NX_METHOD_PREFIX, NX_METHOD_SUFFIX},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        JSValue check = compile_wrapped(checks[i][0], checks[i][1], src, len);
        if (JS_IsException(check)) {
            /* Keep the check's error for its location; say what is actually wrong. */
            JS_FreeValue(ctx, script);
            JSValue error = JS_GetException(ctx);
            JS_DefinePropertyValueStr(
                ctx, error, "message",
                JS_NewString(ctx, "the handler's code ends the function it runs in: a `}` closes the handler "
                                  "before its end, so code after it would run outside the handler"),
                JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
            return error;
        }
        JS_FreeValue(ctx, check);
    }

    *bytecode = JS_WriteObject(ctx, bytecode_len, script, JS_WRITE_OBJ_BYTECODE | JS_WRITE_OBJ_STRIP_SOURCE);
    JS_FreeValue(ctx, script);
    if (!*bytecode) return JS_GetException(ctx);
    return JS_UNDEFINED;
}

/* Evaluates compiled handler bytecode in `ctx`; the result is the handler's async function, or
 * JS_EXCEPTION with the reason pending in `ctx`. */
JSValue nx_load_bytecode(JSContext *ctx, const uint8_t *bytecode, size_t len) {
    JSValue script = JS_ReadObject(ctx, bytecode, len, JS_READ_OBJ_BYTECODE);
    if (JS_IsException(script)) return script;
    if (JS_VALUE_GET_TAG(script) != JS_TAG_FUNCTION_BYTECODE) {
        JS_FreeValue(ctx, script);
        return JS_ThrowTypeError(ctx, "the bytecode does not hold a compiled script");
    }
    return JS_EvalFunction(ctx, script);
}

NX_EXPORT("nx_compile") int32_t nx_compile(const char *src, int32_t len) {
    uint8_t *bytecode = NULL;
    size_t bytecode_len = 0;
    JSValue error = nx_compile_source(src, (size_t)len, &bytecode, &bytecode_len);
    if (!JS_IsUndefined(error)) return nx_output_error(nx.compiler, error, NX_SYNTAX_ERROR);
    nx_set_output(bytecode, bytecode_len);
    js_free(nx.compiler, bytecode);
    return NX_COMPILED;
}
