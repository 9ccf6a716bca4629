/*
 * schema.c — the two-step validation of Kinesis input shapes (see schema.h);
 * the shapes themselves are in schema_shapes.c.
 */
#include "schema.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "utf8.h"

#define NL SCHEMA_NOLIMIT

/* ------------------------------------------------------------- patterns */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int number_text(const char *s, size_t n, size_t max_digits)
{
    if (n == 1 && s[0] == '0')
        return 1;
    if (n == 0 || n > max_digits || s[0] < '1' || s[0] > '9')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* arn:aws.*:kinesis:.*:\d{12}:stream/\S+ over the whole text. */
static int stream_arn_text(const char *s, size_t n)
{
    if (n < 7 || memcmp(s, "arn:aws", 7) != 0)
        return 0;
    /* Try every ":\d{12}:stream/" whose tail is non-empty and has no space. */
    for (size_t j = 7; j + 21 < n; j++) {
        if (s[j] != ':' || memcmp(s + j + 13, ":stream/", 8) != 0)
            continue;
        int ok = 1;
        for (size_t k = 1; k <= 12 && ok; k++)
            ok = is_digit(s[j + k]);
        for (size_t k = j + 21; k < n && ok; k++)
            ok = !is_space(s[k]);
        if (!ok)
            continue;
        for (size_t i = 7; i + 9 <= j; i++)
            if (memcmp(s + i, ":kinesis:", 9) == 0)
                return 1;
    }
    return 0;
}

/* The two ARN patterns of the model as POSIX regular expressions, compiled once. */
static regex_t arn_re[2];
static int arn_re_ok;
static pthread_once_t arn_once = PTHREAD_ONCE_INIT;

static void compile_arn_patterns(void)
{
    arn_re_ok = regcomp(&arn_re[0], "^arn:aws.*:kinesis:.*:[0-9]{12}:.*stream/[a-zA-Z0-9_.-]+/consumer/"
                                    "[a-zA-Z0-9_.-]+:[0-9]+$", REG_EXTENDED | REG_NOSUB) == 0 &&
                regcomp(&arn_re[1], "^arn:aws.*:kinesis:.*:[0-9]{12}:.*stream/[^[:space:]]+$",
                        REG_EXTENDED | REG_NOSUB) == 0;
}

static int arn_matches(int which, const char *s, size_t n)
{
    pthread_once(&arn_once, compile_arn_patterns);
    if (!arn_re_ok || n > 2048 || memchr(s, '\0', n))
        return 0;
    char buf[2049];
    memcpy(buf, s, n);
    buf[n] = '\0';
    return regexec(&arn_re[which], buf, 0, NULL, 0) == 0;
}

int schema_pattern_ok(enum schema_pattern p, const char *s, size_t n)
{
    switch (p) {
    case PAT_NONE:
        return 1;
    case PAT_NAME:
        if (n == 0)
            return 0;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
                  c == '.' || c == '-'))
                return 0;
        }
        return 1;
    case PAT_HASH_KEY:
        return number_text(s, n, 39);
    case PAT_SEQUENCE:
        return number_text(s, n, 129);
    case PAT_STREAM_ARN:
        return stream_arn_text(s, n);
    case PAT_CONSUMER_ARN:
        return arn_matches(0, s, n);
    case PAT_RESOURCE_ARN:
        return arn_matches(1, s, n);
    case PAT_STREAM_ID:
        if (n != 24 || s[20] != '-')
            return 0;
        for (size_t i = 0; i < n; i++)
            if (i != 20 && !((s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i])))
                return 0;
        return 1;
    }
    return 0;
}

const char *schema_pattern_text(enum schema_pattern p)
{
    switch (p) {
    case PAT_NAME: return "[a-zA-Z0-9_.-]+";
    case PAT_HASH_KEY: return "0|([1-9]\\d{0,38})";
    case PAT_SEQUENCE: return "0|([1-9]\\d{0,128})";
    case PAT_STREAM_ARN: return "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+";
    case PAT_STREAM_ID: return "[a-z0-9]{20}-[a-z0-9]{3}";
    case PAT_CONSUMER_ARN:
        return "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+";
    case PAT_RESOURCE_ARN: return "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+";
    default: return "";
    }
}

/* ------------------------------------------------------------ validation */

struct vstate {
    const struct reqin *in;
    struct kbuf *msg;
    int count;           /* constraint violations */
    struct kbuf errors;  /* "Value ... ; Value ..." */
    char path[512];
};

/*
 * A member of the wrong type, in AWS's own words (its JSON reader's, which
 * name Java classes and not the member): "class java.lang.String can not be
 * converted to an Integer", "Start of list found where not expected", ...
 */
static void type_mismatch(struct kbuf *msg, enum schema_kind want, const struct reqin *in, const struct in_val *v)
{
    static const char *const number = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";
    enum in_type t = in_type(in, v);
    const char *got = t == IN_BOOL ? "class java.lang.Boolean" : t == IN_STR ? "class java.lang.String" : number;
    if (t == IN_LIST && want != SK_LIST) {
        kbuf_puts(msg, "Start of list found where not expected");
        return;
    }
    if (t == IN_MAP && want != SK_STRUCT && want != SK_MAP) {
        kbuf_puts(msg, "Start of structure or map found where not expected.");
        return;
    }
    switch (want) {
    case SK_BOOL:
        if (t == IN_STR) {
            size_t n = 0;
            const char *text = in_str(in, v, &n);
            kbuf_putc(msg, '\'');
            for (size_t i = 0; i < n && i < 256; i++)
                kbuf_putc(msg, text[i] >= 'a' && text[i] <= 'z' ? (char)(text[i] - 'a' + 'A') : text[i]);
            kbuf_puts(msg, "' can not be converted to an Boolean");
        } else {
            kbuf_appendf(msg, "%s can not be converted to an Boolean", got);
        }
        return;
    case SK_INT: kbuf_appendf(msg, "%s can not be converted to an Integer", got); return;
    case SK_LONG: kbuf_appendf(msg, "%s can not be converted to an Long", got); return;
    case SK_STRING: kbuf_appendf(msg, "%s can not be converted to an String", got); return;
    case SK_BLOB: kbuf_appendf(msg, "%s can not be converted to a Blob", got); return;
    case SK_TIMESTAMP: kbuf_appendf(msg, "%s can not be converted to milliseconds since epoch", got); return;
    case SK_LIST: kbuf_puts(msg, "Expected list or null"); return; /* a map: said above */
    case SK_MAP: kbuf_puts(msg, "Expected map or null"); return;
    case SK_STRUCT: kbuf_puts(msg, "Expected null"); return;
    }
}

/* Passed as the value of a violation whose value AWS does not print ("Value at 'x' ..."). */
static const char novalue_marker;
#define NOVALUE ((const struct in_val *)&novalue_marker)

static void violation(struct vstate *vs, const struct in_val *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define MAX_VIOLATIONS 10 /* AWS lists (and counts) the first 10 */

static void violation(struct vstate *vs, const struct in_val *v, const char *fmt, ...)
{
    if (vs->count >= MAX_VIOLATIONS)
        return;
    if (vs->count++)
        kbuf_puts(&vs->errors, "; ");
    size_t n;
    const char *text;
    if (!v) {
        kbuf_puts(&vs->errors, "Value null");
    } else if (v == NOVALUE) {
        kbuf_puts(&vs->errors, "Value");
    } else if ((text = in_str(vs->in, v, &n)) != NULL ||
               (in_type(vs->in, v) == IN_NUM && (text = in_num_text(vs->in, v, &n)) != NULL)) {
        kbuf_puts(&vs->errors, "Value '");
        kbuf_append(&vs->errors, text, n);
        kbuf_putc(&vs->errors, '\'');
    } else {
        kbuf_puts(&vs->errors, "Value");
    }
    kbuf_appendf(&vs->errors, " at '%s' failed to satisfy constraint: ", vs->path);
    va_list ap;
    va_start(ap, fmt);
    kbuf_vappendf(&vs->errors, fmt, ap);
    va_end(ap);
}

/* Appends ".member" (lowerCamel) to the path; returns the old length. */
static size_t path_push(struct vstate *vs, const char *name)
{
    size_t old = strlen(vs->path);
    if (old + strlen(name) + 2 >= sizeof vs->path)
        return old;
    char *p = vs->path + old;
    if (old)
        *p++ = '.';
    strcpy(p, name);
    if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
    return old;
}

/* Appends ".N.member" (N counting from 1); without printf: this runs per list element. */
static size_t path_push_index(struct vstate *vs, size_t i)
{
    size_t old = strlen(vs->path);
    char digits[24];
    size_t nd = 0;
    for (size_t v = i + 1; v; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    if (old + nd + 9 >= sizeof vs->path)
        return old;
    char *p = vs->path + old;
    *p++ = '.';
    while (nd)
        *p++ = digits[--nd];
    memcpy(p, ".member", 8);
    return old;
}

static enum schema_result check_shape(struct vstate *vs, const struct schema_shape *shape,
                                      const struct in_val *obj);

static void check_length(struct vstate *vs, const struct schema_field *f, const struct in_val *v, int64_t len)
{
    if (f->min != NL && len < f->min)
        violation(vs, v, "Member must have length greater than or equal to %lld", (long long)f->min);
    if (f->max != NL && len > f->max)
        violation(vs, v, "Member must have length less than or equal to %lld", (long long)f->max);
}

/* The "Value at" form (no value printed) for blobs, lists, maps. */
static void check_length_noval(struct vstate *vs, const struct schema_field *f, int64_t len)
{
    if (f->min != NL && len < f->min)
        violation(vs, NOVALUE, "Member must have length greater than or equal to %lld", (long long)f->min);
    if (f->max != NL && len > f->max)
        violation(vs, NOVALUE, "Member must have length less than or equal to %lld", (long long)f->max);
}

static enum schema_result check_value(struct vstate *vs, const struct schema_field *f, const struct in_val *v)
{
    const struct reqin *in = vs->in;
    enum in_type t = in_type(in, v);
    switch (f->kind) {
    case SK_STRING: {
        size_t n;
        const char *s = in_str(in, v, &n);
        if (!s)
            goto type;
        check_length(vs, f, v, (int64_t)utf8_utf16_len(s, n));
        if (f->pattern != PAT_NONE && !schema_pattern_ok(f->pattern, s, n))
            violation(vs, v, "Member must satisfy regular expression pattern: %s", schema_pattern_text(f->pattern));
        if (f->enums) {
            int found = 0;
            for (const char *const *e = f->enums; *e && !found; e++)
                found = strlen(*e) == n && memcmp(*e, s, n) == 0;
            if (!found) {
                struct kbuf set = KBUF_INIT;
                for (const char *const *e = f->enums; *e; e++)
                    kbuf_appendf(&set, "%s%s", e == f->enums ? "" : ", ", *e);
                violation(vs, v, "Member must satisfy enum value set: [%s]", set.p);
                kbuf_free(&set);
            }
        }
        return SCHEMA_OK;
    }
    case SK_BLOB:
        if (!in_is_blob(in, v))
            goto type;
        check_length_noval(vs, f, (int64_t)in_blob_len(in, v));
        return SCHEMA_OK;
    case SK_INT:
    case SK_LONG: {
        long long x;
        if (t != IN_NUM || !in_is_int(in, v))
            goto type;
        int fits = in_int(in, v, &x);
        if (f->kind == SK_INT && (!fits || x > INT32_MAX || x < INT32_MIN)) {
            /* Past 32 bits: a ValidationException naming the Integer's own bound, as AWS answers. */
            size_t tl = 0;
            const char *text = in_num_text(in, v, &tl);
            if (fits ? x < 0 : text && tl && text[0] == '-')
                violation(vs, v, "Member must have value greater than or equal to %lld", (long long)INT32_MIN);
            else
                violation(vs, v, "Member must have value less than or equal to %lld", (long long)INT32_MAX);
            return SCHEMA_OK;
        }
        if (!fits) {
            size_t tl;
            const char *text = in_num_text(in, v, &tl);
            kbuf_appendf(vs->msg, "Numeric value (%.*s) of member '%s' is out of range of %s",
                         (int)KT_MIN(tl, 64), text, vs->path, f->kind == SK_INT ? "int" : "long");
            return SCHEMA_SERIALIZATION;
        }
        if (f->min != NL && x < f->min)
            violation(vs, v, "Member must have value greater than or equal to %lld", (long long)f->min);
        if (f->max != NL && x > f->max)
            violation(vs, v, "Member must have value less than or equal to %lld", (long long)f->max);
        return SCHEMA_OK;
    }
    case SK_BOOL:
        if (t != IN_BOOL)
            goto type;
        return SCHEMA_OK;
    case SK_TIMESTAMP:
        if (t != IN_NUM)
            goto type; /* epoch seconds, a number: AWS's JSON reader takes no string */
        return SCHEMA_OK;
    case SK_STRUCT:
        if (t != IN_MAP)
            goto type;
        return check_shape(vs, f->shape, v);
    case SK_LIST: {
        if (t != IN_LIST)
            goto type;
        check_length_noval(vs, f, (int64_t)in_count(in, v));
        size_t i = 0;
        for (const struct in_val *e = in_first(in, v); e; e = in_next(in, v, e), i++) {
            size_t old = path_push_index(vs, i);
            enum schema_result r = SCHEMA_OK;
            if (in_type(in, e) == IN_NULL) {
                violation(vs, NULL, "Member must not be null");
            } else if (f->shape) {
                if (in_type(in, e) != IN_MAP) {
                    kbuf_appendf(vs->msg, "Expected an object at '%s' but found %s", vs->path,
                                 in_type_name(in, e));
                    r = SCHEMA_SERIALIZATION;
                } else {
                    r = check_shape(vs, f->shape, e);
                }
            } else {
                r = check_value(vs, f->elem, e);
            }
            vs->path[old] = '\0';
            if (r != SCHEMA_OK)
                return r;
        }
        return SCHEMA_OK;
    }
    case SK_MAP: {
        if (t != IN_MAP)
            goto type;
        check_length_noval(vs, f, (int64_t)in_count(in, v));
        for (const struct in_val *k = in_first(in, v); k; k = in_next(in, v, k)) {
            const struct in_val *e = in_value(in, k);
            size_t kl, el;
            const char *ks = in_str(in, k, &kl);
            const char *es = in_str(in, e, &el);
            int64_t ku = (int64_t)utf8_utf16_len(ks, kl);
            if ((f->elem->min != NL && ku < f->elem->min) || (f->elem->max != NL && ku > f->elem->max))
                violation(vs, NOVALUE,
                          "Map keys must satisfy constraint: [Member must have length less than or "
                          "equal to %lld, Member must have length greater than or equal to %lld]",
                          (long long)f->elem->max, (long long)f->elem->min);
            if (!es) {
                kbuf_appendf(vs->msg, "Expected a string for the value of '%s' in '%s' but found %s", ks,
                             vs->path, in_type_name(in, e));
                return SCHEMA_SERIALIZATION;
            }
            int64_t vu = (int64_t)utf8_utf16_len(es, el);
            if ((f->value->min != NL && vu < f->value->min) || (f->value->max != NL && vu > f->value->max))
                violation(vs, NOVALUE,
                          "Map value must satisfy constraint: [Member must have length less than or "
                          "equal to %lld, Member must have length greater than or equal to %lld]",
                          (long long)f->value->max, (long long)f->value->min);
        }
        return SCHEMA_OK;
    }
    }
    return SCHEMA_OK;
type:
    type_mismatch(vs->msg, f->kind, in, v);
    return SCHEMA_SERIALIZATION;
}

static enum schema_result check_shape(struct vstate *vs, const struct schema_shape *shape,
                                      const struct in_val *obj)
{
    for (size_t i = 0; i < shape->n; i++) {
        const struct schema_field *f = &shape->fields[i];
        const struct in_val *v = in_get(vs->in, obj, f->name);
        size_t old = path_push(vs, f->name);
        enum schema_result r = SCHEMA_OK;
        if (!v || in_type(vs->in, v) == IN_NULL) {
            if (f->required)
                violation(vs, NULL, "Member must not be null");
        } else {
            r = check_value(vs, f, v);
        }
        vs->path[old] = '\0';
        if (r != SCHEMA_OK)
            return r;
    }
    return SCHEMA_OK;
}

enum schema_result schema_check(const struct schema_shape *shape, const struct reqin *in, const struct in_val *obj,
                                struct kbuf *msg)
{
    struct vstate vs = {.in = in, .msg = msg, .count = 0, .errors = KBUF_INIT, .path = ""};
    enum schema_result r = check_shape(&vs, shape, obj);
    if (r == SCHEMA_OK && vs.count) {
        kbuf_appendf(msg, "%d validation error%s detected: %s", vs.count, vs.count == 1 ? "" : "s",
                     vs.errors.p);
        r = SCHEMA_VALIDATION;
    }
    kbuf_free(&vs.errors);
    return r;
}

