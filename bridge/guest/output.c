/* The output buffer the host reads after each call, and the error record written into it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "guest.h"

void nx_set_output(const void *data, size_t len) {
    free(nx.output);
    nx.output = NULL;
    nx.output_len = 0;
    if (len == 0) return;
    nx.output = malloc(len);
    if (!nx.output) host_out_of_memory();
    memcpy(nx.output, data, len);
    nx.output_len = len;
}

NX_EXPORT("nx_output_ptr") uint8_t *nx_output_ptr(void) { return nx.output; }
NX_EXPORT("nx_output_len") int32_t nx_output_len(void) { return (int32_t)nx.output_len; }

/* "name\0message\0stack": NUL never occurs inside the three parts (they are C strings). */
static int write_record(const char *name, const char *message, const char *stack, int status) {
    size_t name_len = strlen(name), message_len = strlen(message), stack_len = strlen(stack);
    size_t len = name_len + message_len + stack_len + 2;
    char *record = malloc(len);
    if (!record) host_out_of_memory();
    memcpy(record, name, name_len);
    record[name_len] = '\0';
    memcpy(record + name_len + 1, message, message_len);
    record[name_len + 1 + message_len] = '\0';
    memcpy(record + name_len + message_len + 2, stack, stack_len);
    free(nx.output);
    nx.output = (uint8_t *)record;
    nx.output_len = len;
    return status;
}

int nx_output_message(const char *name, const char *message, int status) {
    return write_record(name, message, "", status);
}

/* A property of a thrown value as a C string, or NULL. Getters and toString may be the handler's
 * own code and may throw: that is swallowed here, the record just lacks the part. */
static const char *string_property(JSContext *ctx, JSValueConst obj, const char *prop) {
    JSValue value = JS_GetPropertyStr(ctx, obj, prop);
    if (JS_IsException(value)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return NULL;
    }
    if (!JS_IsString(value)) {
        JS_FreeValue(ctx, value);
        return NULL;
    }
    const char *str = JS_ToCString(ctx, value);
    JS_FreeValue(ctx, value);
    return str;
}

/* Describes a thrown value that is not an Error: JSON when it has a JSON form, else String(). */
static const char *describe_value(JSContext *ctx, JSValueConst value) {
    if (JS_IsString(value)) return JS_ToCString(ctx, value);
    if (JS_IsSymbol(value)) {
        /* ToString throws for symbols; their description is what names them. */
        const char *description = string_property(ctx, value, "description");
        char text[256];
        snprintf(text, sizeof(text), "Symbol(%s)", description ? description : "");
        if (description) JS_FreeCString(ctx, description);
        JSValue name = JS_NewString(ctx, text);
        const char *str = JS_ToCString(ctx, name);
        JS_FreeValue(ctx, name);
        return str;
    }
    if (JS_IsObject(value)) {
        JSValue json = JS_JSONStringify(ctx, value, JS_UNDEFINED, JS_UNDEFINED);
        if (JS_IsException(json)) {
            JS_FreeValue(ctx, JS_GetException(ctx));
        } else if (JS_IsString(json)) {
            const char *str = JS_ToCString(ctx, json);
            JS_FreeValue(ctx, json);
            return str;
        } else {
            JS_FreeValue(ctx, json);
        }
    }
    const char *str = JS_ToCString(ctx, value);
    if (!str) JS_FreeValue(ctx, JS_GetException(ctx));
    return str;
}

int nx_output_error(JSContext *ctx, JSValue exception, int status) {
    const char *name = NULL, *message = NULL, *stack = NULL;
    if (JS_IsError(exception)) {
        name = string_property(ctx, exception, "name");
        message = string_property(ctx, exception, "message");
        stack = string_property(ctx, exception, "stack");
    } else {
        message = describe_value(ctx, exception);
    }
    write_record(name ? name : "", message ? message : "a value that cannot be printed was thrown",
                 stack ? stack : "", status);
    if (name) JS_FreeCString(ctx, name);
    if (message) JS_FreeCString(ctx, message);
    if (stack) JS_FreeCString(ctx, stack);
    JS_FreeValue(ctx, exception);
    return status;
}
