/* jread.c — strict in-place JSON reader (RFC 8259; see jread.h). */
#include "jread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "simd.h"
#include "utf8.h"

/* Requests never need more; a body of tiny values must not cost 16x its size. */

struct parser {
    struct jdoc *d;
    char *s;
    size_t len;
    size_t pos;
    struct kt_err *err;
    size_t *err_at;
};

void jdoc_init(struct jdoc *d)
{
    memset(d, 0, sizeof *d);
    d->max_depth = JREAD_MAX_DEPTH;
}

void jdoc_free(struct jdoc *d)
{
    free(d->nodes);
    jdoc_init(d);
}

const char *jtype_name(enum jtype t)
{
    static const char *names[] = {"null", "a boolean", "a boolean", "a number", "a string", "an array",
                                  "an object", "a byte string"};
    return names[t];
}

static int fail(struct parser *p, const char *what)
{
    if (p->pos >= p->len)
        kt_err_set(p->err, "truncated JSON: the text ends at byte %zu in the middle of %s", p->len, what);
    else
        kt_err_set(p->err, "malformed JSON at byte %zu: %s", p->pos, what);
    if (p->err_at)
        *p->err_at = p->pos;
    return -1;
}

static int push(struct parser *p, enum jtype t, size_t *idx)
{
    struct jdoc *d = p->d;
    if (d->n == JREAD_MAX_NODES) {
        kt_err_set(p->err, "JSON at byte %zu has more than %d values", p->pos, JREAD_MAX_NODES);
        if (p->err_at)
            *p->err_at = p->pos;
        return -1;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->nodes = xrealloc(d->nodes, d->cap * sizeof *d->nodes);
    }
    struct jnode *n = &d->nodes[d->n];
    n->type = (uint8_t)t;
    n->is_int = 0;
    n->epoch_ms = 0;
    n->start = (uint32_t)p->pos;
    n->len = 0;
    n->next = 0;
    *idx = d->n++;
    return 0;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            return;
        p->pos++;
    }
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parses the string at p->pos (an opening quote), unescaping it in place. */
static int parse_string(struct parser *p, size_t idx)
{
    char *s = p->s;
    size_t i = p->pos + 1;
    size_t start = i, o = i;
    for (;;) {
        /* Fast path, 16 bytes at a time: runs of plain ASCII are passed over, or
         * moved down over the room earlier escapes freed. */
        while (i + 16 <= p->len) {
            unsigned m = kt_json_specials16(s + i, 1);
            size_t k = m ? (size_t)__builtin_ctz(m) : 16;
            if (o != i && k)
                memmove(s + o, s + i, k);
            i += k;
            o += k;
            if (m)
                break;
        }
        /* Plain ASCII runs need no copy until the first escape. */
        while (i < p->len) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
                break;
            if (o != i)
                s[o] = (char)c;
            i++, o++;
        }
        if (i >= p->len) {
            p->pos = i;
            return fail(p, "a string");
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            break;
        if (c < 0x20) {
            p->pos = i;
            return fail(p, "a control character inside a string (it must be escaped)");
        }
        if (c >= 0x80) {
            size_t k = utf8_seq((const unsigned char *)s + i, p->len - i);
            if (!k) {
                char why[160];
                p->pos = utf8_problem((const unsigned char *)s + i, p->len - i, why, sizeof why) ? p->len : i;
                return fail(p, why);
            }
            if (o != i)
                memmove(s + o, s + i, k);
            i += k, o += k;
            continue;
        }
        /* backslash */
        if (i + 1 >= p->len) {
            p->pos = i + 1;
            return fail(p, "an escape sequence");
        }
        char e = s[i + 1];
        char out;
        switch (e) {
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case '/': out = '/'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (i + 6 > p->len) {
                p->pos = p->len;
                return fail(p, "a \\u escape");
            }
            if (hex4(s + i + 2, &cp)) {
                p->pos = i;
                return fail(p, "invalid \\u escape (four hex digits expected)");
            }
            size_t used = 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (i + 12 > p->len || s[i + 6] != '\\' || s[i + 7] != 'u' || hex4(s + i + 8, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff) {
                    p->pos = i;
                    return fail(p, "a lone UTF-16 high surrogate in a \\u escape");
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                used = 12;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                p->pos = i;
                return fail(p, "a lone UTF-16 low surrogate in a \\u escape");
            }
            o += put_utf8(s + o, cp);
            i += used;
            continue;
        }
        default:
            p->pos = i;
            return fail(p, "invalid escape sequence in a string");
        }
        s[o++] = out;
        i += 2;
    }
    struct jnode *n = &p->d->nodes[idx];
    n->start = (uint32_t)start;
    n->len = (uint32_t)(o - start);
    s[o] = '\0';
    p->pos = i + 1;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(struct parser *p, size_t idx)
{
    const char *s = p->s;
    size_t i = p->pos;
    int is_int = 1;
    if (i < p->len && s[i] == '-')
        i++;
    if (i >= p->len) {
        p->pos = i;
        return fail(p, "a number");
    }
    if (s[i] == '0') {
        i++;
    } else if (is_digit(s[i])) {
        while (i < p->len && is_digit(s[i]))
            i++;
    } else {
        p->pos = i;
        return fail(p, "a number (digit expected)");
    }
    if (i < p->len && s[i] == '.') {
        is_int = 0;
        i++;
        if (i >= p->len || !is_digit(s[i])) {
            p->pos = i;
            return fail(p, "a number (digit expected after '.')");
        }
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        is_int = 0;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(s[i])) {
            p->pos = i;
            return fail(p, "a number (digit expected in the exponent)");
        }
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    struct jnode *n = &p->d->nodes[idx];
    n->len = (uint32_t)(i - p->pos);
    n->is_int = (uint8_t)is_int;
    p->pos = i;
    return 0;
}

static int parse_literal(struct parser *p, const char *word, enum jtype t)
{
    size_t n = strlen(word);
    size_t idx;
    for (size_t k = 0; k < n; k++) {
        if (p->pos + k >= p->len) {
            p->pos = p->len;
            return fail(p, word);
        }
        if (p->s[p->pos + k] != word[k]) {
            p->pos += k;
            return fail(p, "an unexpected character (a value was expected)");
        }
    }
    if (push(p, t, &idx))
        return -1;
    p->pos += n;
    p->d->nodes[idx].next = (uint32_t)p->d->n;
    return 0;
}

static int parse_value(struct parser *p, int depth);

static int parse_container(struct parser *p, int depth, int is_obj)
{
    size_t idx;
    char close = is_obj ? '}' : ']';
    if (depth >= p->d->max_depth) {
        kt_err_set(p->err, "malformed JSON at byte %zu: nested deeper than %d levels", p->pos,
                 p->d->max_depth);
        if (p->err_at)
            *p->err_at = p->pos;
        return -1;
    }
    if (push(p, is_obj ? J_OBJ : J_ARR, &idx))
        return -1;
    p->pos++;
    uint32_t count = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            skip_ws(p);
            if (is_obj) {
                size_t key;
                if (p->pos >= p->len)
                    return fail(p, "an object");
                if (p->s[p->pos] != '"')
                    return fail(p, "an unexpected character (a member name in quotes was expected)");
                if (push(p, J_STR, &key) || parse_string(p, key))
                    return -1;
                p->d->nodes[key].next = (uint32_t)p->d->n;
                skip_ws(p);
                if (p->pos >= p->len)
                    return fail(p, "an object");
                if (p->s[p->pos] != ':')
                    return fail(p, "an unexpected character (':' was expected)");
                p->pos++;
            }
            if (parse_value(p, depth + 1))
                return -1;
            count++;
            skip_ws(p);
            if (p->pos >= p->len)
                return fail(p, is_obj ? "an object" : "an array");
            char c = p->s[p->pos];
            if (c == ',') {
                p->pos++;
                continue;
            }
            if (c == close) {
                p->pos++;
                break;
            }
            return fail(p, is_obj ? "an unexpected character (',' or '}' was expected)"
                                  : "an unexpected character (',' or ']' was expected)");
        }
    }
    struct jnode *n = &p->d->nodes[idx];
    n->len = count;
    n->next = (uint32_t)p->d->n;
    return 0;
}

static int parse_value(struct parser *p, int depth)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, "a value");
    char c = p->s[p->pos];
    size_t idx;
    switch (c) {
    case '{':
        return parse_container(p, depth, 1);
    case '[':
        return parse_container(p, depth, 0);
    case '"':
        if (push(p, J_STR, &idx) || parse_string(p, idx))
            return -1;
        p->d->nodes[idx].next = (uint32_t)p->d->n;
        return 0;
    case 't':
        return parse_literal(p, "true", J_TRUE);
    case 'f':
        return parse_literal(p, "false", J_FALSE);
    case 'n':
        return parse_literal(p, "null", J_NULL);
    default:
        if (c == '-' || is_digit(c)) {
            if (push(p, J_NUM, &idx) || parse_number(p, idx))
                return -1;
            p->d->nodes[idx].next = (uint32_t)p->d->n;
            return 0;
        }
        return fail(p, "an unexpected character (a value was expected)");
    }
}

int jdoc_parse(struct jdoc *d, char *text, size_t len, struct kt_err *err, size_t *err_at)
{
    d->text = text;
    d->text_len = len;
    d->n = 0;
    if (len >= UINT32_MAX) {
        kt_err_set(err, "JSON text of %zu bytes is too large", len);
        if (err_at)
            *err_at = 0;
        return -1;
    }
    struct parser p = {d, text, len, 0, err, err_at};
    /* A UTF-8 byte order mark is not JSON text (RFC 8259, section 8.1). */
    if (parse_value(&p, 0))
        return -1;
    skip_ws(&p);
    if (p.pos != len)
        return fail(&p, "trailing characters after the JSON value");
    return 0;
}

const struct jnode *jget(const struct jdoc *d, const struct jnode *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ)
        return NULL;
    size_t kl = strlen(key);
    const struct jnode *found = NULL;
    const struct jnode *end = d->nodes + obj->next;
    const struct jnode *k = obj + 1;
    while (k < end) {
        const struct jnode *v = k + 1;
        if (k->len == kl && memcmp(d->text + k->start, key, kl) == 0)
            found = v;
        k = d->nodes + v->next;
    }
    return found;
}

const struct jnode *jfirst(const struct jdoc *d, const struct jnode *c)
{
    if (!c || (c->type != J_OBJ && c->type != J_ARR) || c->len == 0)
        return NULL;
    return c + 1;
}

const struct jnode *jnext(const struct jdoc *d, const struct jnode *c, const struct jnode *n)
{
    uint32_t idx = c->type == J_OBJ ? (n + 1)->next : n->next;
    return idx < c->next ? d->nodes + idx : NULL;
}

int jint(const struct jdoc *d, const struct jnode *n, long long *out)
{
    if (n->type != J_NUM || !n->is_int)
        return -1;
    const char *s = d->text + n->start;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-')
        neg = 1, i = 1;
    unsigned long long v = 0;
    for (; i < n->len; i++) {
        unsigned d10 = (unsigned)(s[i] - '0');
        if (v > (9223372036854775808ULL - d10) / 10)
            return -1;
        v = v * 10 + d10;
    }
    if (!neg && v > 9223372036854775807ULL)
        return -1;
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

double jnum(const struct jdoc *d, const struct jnode *n)
{
    char buf[64];
    if (n->type != J_NUM)
        return 0;
    if (n->len < sizeof buf) {
        memcpy(buf, d->text + n->start, n->len);
        buf[n->len] = '\0';
        return strtod(buf, NULL);
    }
    char *tmp = xstrndup(d->text + n->start, n->len);
    double v = strtod(tmp, NULL);
    free(tmp);
    return v;
}

/* ------------------------------------------------------------ jscan */

/* Index just past the string that starts at the quote at i, or 0 if unterminated. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
    i++;
    for (;;) {
        const char *q = memchr(s + i, '"', len - i);
        if (!q)
            return 0;
        size_t at = (size_t)(q - s);
        /* A quote preceded by an odd number of backslashes is escaped. */
        size_t bs = 0;
        while (at - bs > i && s[at - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0)
            return at + 1;
        i = at + 1;
    }
}

static size_t skip_ws_at(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    return i;
}

/* Index just past the value at i, or 0 when malformed. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    if (s[i] == '"')
        return skip_string(s, len, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < len) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, len, i);
                if (!i)
                    return 0;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
            i++;
        }
        return 0;
    }
    /* number, true, false, null */
    while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' &&
           s[i] != '\t')
        i++;
    return i;
}

int jscan_top_string(const char *s, size_t len, const char *key, const char **val, size_t *vlen)
{
    size_t kl = strlen(key);
    size_t i = skip_ws_at(s, len, 0);
    if (i >= len || s[i] != '{')
        return -1;
    i = skip_ws_at(s, len, i + 1);
    if (i < len && s[i] == '}')
        return 0;
    while (i < len) {
        if (s[i] != '"')
            return -1;
        size_t kend = skip_string(s, len, i);
        if (!kend)
            return -1;
        int match = kend - i - 2 == kl && memcmp(s + i + 1, key, kl) == 0;
        i = skip_ws_at(s, len, kend);
        if (i >= len || s[i] != ':')
            return -1;
        i = skip_ws_at(s, len, i + 1);
        size_t vend = skip_value(s, len, i);
        if (!vend)
            return -1;
        if (match) {
            if (s[i] != '"')
                return 0;
            *val = s + i + 1;
            *vlen = vend - i - 2;
            return 1;
        }
        i = skip_ws_at(s, len, vend);
        if (i < len && s[i] == ',') {
            i = skip_ws_at(s, len, i + 1);
            continue;
        }
        return 0;
    }
    return -1;
}
