/*
 * reqin.c — the request reader over a decoded tree (see reqin.h).
 *
 * The tree is common/jread.h's flat node array; an in_val is one of its
 * nodes. These accessors are the only code above the decoders that knows.
 */
#include "reqin.h"

#include <string.h>

#include "b64.h"
#include "jcbor.h"

static const struct jnode *node(const struct in_val *v)
{
    return (const struct jnode *)v;
}

static const struct in_val *val(const struct jnode *n)
{
    return (const struct in_val *)n;
}

int reqin_parse_cbor(struct reqin *in, struct jdoc *doc, struct kbuf *arena, const uint8_t *body, size_t len,
                     struct kt_err *err)
{
    in->doc = doc;
    return jdoc_parse_cbor(doc, arena, body, len, err);
}

int reqin_parse_json(struct reqin *in, struct jdoc *doc, char *text, size_t len, struct kt_err *err)
{
    in->doc = doc;
    return jdoc_parse(doc, text, len, err, NULL);
}

const struct in_val *in_root(const struct reqin *in)
{
    return val(jroot(in->doc));
}

enum in_type in_type(const struct reqin *in, const struct in_val *v)
{
    (void)in;
    switch (node(v)->type) {
    case J_FALSE:
    case J_TRUE: return IN_BOOL;
    case J_NUM: return IN_NUM;
    case J_STR: return IN_STR;
    case J_ARR: return IN_LIST;
    case J_OBJ: return IN_MAP;
    case J_BYTES: return IN_BYTES;
    default: return IN_NULL;
    }
}

const char *in_type_name(const struct reqin *in, const struct in_val *v)
{
    (void)in;
    return jtype_name((enum jtype)node(v)->type);
}

const struct in_val *in_get(const struct reqin *in, const struct in_val *m, const char *name)
{
    return m ? val(jget(in->doc, node(m), name)) : NULL;
}

const char *in_str(const struct reqin *in, const struct in_val *v, size_t *len)
{
    const struct jnode *n = node(v);
    if (!n || n->type != J_STR)
        return NULL;
    if (len)
        *len = n->len;
    return jstr(in->doc, n);
}

int in_int(const struct reqin *in, const struct in_val *v, long long *out)
{
    const struct jnode *n = node(v);
    return n && n->type == J_NUM && jint(in->doc, n, out) == 0;
}

int in_is_int(const struct reqin *in, const struct in_val *v)
{
    (void)in;
    return node(v)->type == J_NUM && node(v)->is_int;
}

double in_num(const struct reqin *in, const struct in_val *v)
{
    return jnum(in->doc, node(v));
}

const char *in_num_text(const struct reqin *in, const struct in_val *v, size_t *len)
{
    *len = node(v)->len;
    return in->doc->text + node(v)->start;
}

int in_num_is_epoch_ms(const struct reqin *in, const struct in_val *v)
{
    (void)in;
    return node(v)->type == J_NUM && node(v)->epoch_ms;
}

int in_bool(const struct reqin *in, const struct in_val *v)
{
    (void)in;
    return v && node(v)->type == J_TRUE;
}

size_t in_count(const struct reqin *in, const struct in_val *v)
{
    (void)in;
    return node(v)->len;
}

const struct in_val *in_first(const struct reqin *in, const struct in_val *c)
{
    return c ? val(jfirst(in->doc, node(c))) : NULL;
}

const struct in_val *in_next(const struct reqin *in, const struct in_val *c, const struct in_val *e)
{
    return val(jnext(in->doc, node(c), node(e)));
}

const struct in_val *in_value(const struct reqin *in, const struct in_val *key)
{
    (void)in;
    return val(node(key) + 1);
}

int in_is_blob(const struct reqin *in, const struct in_val *v)
{
    (void)in;
    return node(v)->type == J_STR || node(v)->type == J_BYTES;
}

size_t in_blob_len(const struct reqin *in, const struct in_val *v)
{
    if (node(v)->type == J_BYTES)
        return node(v)->len;
    const char *s = jstr(in->doc, node(v));
    size_t n = node(v)->len;
    size_t pad = 0;
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
        pad++;
    size_t rem = (n - pad) % 4;
    return (n - pad) / 4 * 3 + (rem ? rem - 1 : 0);
}

size_t in_blob_room(const struct reqin *in, const struct in_val *v)
{
    (void)in;
    if (node(v)->type == J_BYTES)
        return node(v)->len;
    return b64_decoded_max(node(v)->len);
}

int in_blob(const struct reqin *in, const struct in_val *v, uint8_t *dst, size_t *len, size_t *bad)
{
    if (node(v)->type == J_BYTES) {
        memcpy(dst, jstr(in->doc, node(v)), node(v)->len);
        *len = node(v)->len;
        return 0;
    }
    return b64_decode(dst, jstr(in->doc, node(v)), node(v)->len, len, bad);
}
