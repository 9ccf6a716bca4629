/*
 * ops_resources.c — tags and resource policies of the Kinesis API: the
 * stream operations AddTagsToStream, RemoveTagsFromStream and
 * ListTagsForStream, and the ARN-addressed TagResource, UntagResource,
 * ListTagsForResource, PutResourcePolicy, GetResourcePolicy and
 * DeleteResourcePolicy (a stream's or a consumer's).
 *
 * Policies are kept and returned as they were given (a JSON object); they
 * are not evaluated: every caller may do everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jread.h"
#include "mem.h"
#include "ops.h"
#include "utf8.h"

#define MAX_TAGS 50

/*
 * The characters AWS takes in a tag key or value: ASCII letters, digits,
 * space and _ . / = + - @ : %, and the code points U+00C0..U+1FFF and
 * U+2C00..U+D7FF (its "Unicode letters"); a tab, a control character,
 * U+0080..U+00BF, U+2000..U+2BFF and anything past U+D7FF are refused, and
 * so are bytes that are not UTF-8. '%' passes this check, and is refused by
 * the next one (tag_has_percent), with another message, as AWS does.
 */
static int tag_text_ok(const char *t, size_t n)
{
    const unsigned char *p = (const unsigned char *)t;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            unsigned char ch = p[i++];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  (ch != 0 && strchr(" _./=+-@:%", ch) != NULL)))
                return 0;
            continue;
        }
        size_t len = utf8_seq(p + i, n - i);
        if (!len)
            return 0;
        uint32_t cp = p[i] & (0x7f >> len);
        for (size_t k = 1; k < len; k++)
            cp = cp << 6 | (p[i + k] & 0x3f);
        if (!((cp >= 0xc0 && cp <= 0x1fff) || (cp >= 0x2c00 && cp <= 0xd7ff)))
            return 0;
        i += len;
    }
    return 1;
}

static int tag_has_percent(const char *t, size_t n)
{
    return t && memchr(t, '%', n) != NULL;
}

/*
 * Checks tag keys (and values: NULL when there are none) as AWS does, every
 * one for its characters first, then for '%'; `removing` picks AWS's wording
 * for RemoveTagsFromStream. Returns 1, or 0 with the error answered.
 */
int op_tags_valid(struct op_call *c, const char *stream, int removing, const struct in_val *list, int is_map)
{
    const struct reqin *in = c->in;
    for (int pass = 0; pass < 2; pass++)
        for (const struct in_val *k = in_first(in, list); k; k = in_next(in, list, k)) {
            size_t kl = 0, vl = 0;
            const char *key = in_str(in, k, &kl);
            const char *value = is_map ? in_str(in, in_value(in, k), &vl) : NULL;
            if (pass == 0 && (!tag_text_ok(key, kl) || (value && !tag_text_ok(value, vl)))) {
                op_invalid(c, "Some tags contain invalid characters. Valid characters: Unicode letters, digits, "
                              "white space, _ . / = + - %% @ :.");
                return 0;
            }
            if (pass == 1 && (tag_has_percent(key, kl) || tag_has_percent(value, vl))) {
                op_invalid(c, "Failed to %s stream %s under account %s because some tags contained illegal "
                              "characters. The allowed characters are Unicode letters, white-spaces, "
                              "'_',',','/','=','+','-','@',':'.",
                           removing ? "remove tags from" : "add tags to", stream ? stream : "",
                           c->account);
                return 0;
            }
        }
    return 1;
}

int op_apply_tags(struct op_call *c, struct tagset *set, const char *name, const struct in_val *tags)
{
    const struct reqin *in = c->in;
    if (!op_tags_valid(c, name, 0, tags, 1))
        return -1;
    size_t new_keys = 0;
    for (const struct in_val *k = in_first(in, tags); k; k = in_next(in, tags, k))
        new_keys += !tagset_has(set, in_str(in, k, NULL));
    if (set->n + new_keys > MAX_TAGS)
        return op_invalid(c, "Failed to add tags to stream %s under account %s because a given stream cannot "
                             "have more than %d tags.",
                          name, c->account, MAX_TAGS);
    for (const struct in_val *k = in_first(in, tags); k; k = in_next(in, tags, k)) {
        size_t kl, vl;
        const char *key = in_str(in, k, &kl);
        const char *value = in_str(in, in_value(in, k), &vl);
        tagset_set(set, key, kl, value, vl);
    }
    return 0;
}

/* ------------------------------------------------------------ stream tags */

int op_add_tags(struct op_call *c)
{
    struct stream *s = op_stream_to_change(c);
    if (!s)
        return -1;
    return op_apply_tags(c, &s->tags, s->name, op_get(c, "Tags"));
}

int op_remove_tags(struct op_call *c)
{
    struct stream *s = op_stream_to_change(c);
    if (!s)
        return -1;
    const struct reqin *in = c->in;
    const struct in_val *keys = op_get(c, "TagKeys");
    if (!op_tags_valid(c, s->name, 1, keys, 0))
        return -1;
    for (const struct in_val *k = in_first(in, keys); k; k = in_next(in, keys, k)) {
        size_t kl;
        const char *key = in_str(in, k, &kl);
        tagset_remove(&s->tags, key, kl);
    }
    return 0;
}

int op_list_tags(struct op_call *c)
{
    struct stream *s = op_stream(c, 0);
    if (!s)
        return -1;
    long long limit = 50;
    op_int(c, "Limit", &limit);
    size_t i = tagset_after(&s->tags, op_str(c, "ExclusiveStartTagKey", NULL));
    size_t start = i;
    struct rw *w = c->w;
    rw_map(w);
    rw_key(w, "Tags");
    rw_list(w);
    for (; i < s->tags.n && (long long)(i - start) < limit; i++) {
        rw_map(w);
        rw_kstr(w, "Key", s->tags.v[i].key);
        rw_kstr(w, "Value", s->tags.v[i].value);
        rw_end(w);
    }
    rw_end(w);
    rw_key(w, "HasMoreTags");
    rw_bool(w, i < s->tags.n);
    rw_end(w);
    return 0;
}

/* ------------------------------------------------------- resources by ARN */

/* A stream or a consumer named by ResourceARN, with what can be set on it. */
struct resource {
    struct stream *s;
    struct consumer *cn;       /* NULL for a stream */
    struct tagset *tags;
    char **policy;
    const char *name;          /* for messages */
};

/* 0 with the resource, or -1 after the error (a stream being changed must be ACTIVE when `change`). */
static int find_resource(struct op_call *c, struct resource *r, int change)
{
    const char *arn = op_str(c, "ResourceARN", NULL);
    char region[64], account[13], stream[129];
    memset(r, 0, sizeof *r);
    if (strstr(arn, "/consumer/")) {
        if (!(r->cn = op_consumer_by_arn(c, arn, "ResourceARN", &r->s)))
            return -1;
        r->tags = &r->cn->tags;
        r->policy = &r->cn->policy;
        r->name = r->cn->name;
        return 0;
    }
    if (op_parse_stream_arn(arn, strlen(arn), region, sizeof region, account, stream, sizeof stream) != 0)
        return op_invalid(c, "Invalid ResourceARN %s.", arn);
    r->s = strcmp(account, c->account) == 0 ? store_find(&c->emu->store, account, region, stream, c->now_ms) : NULL;
    if (!r->s)
        return op_fail(c, 400, "ResourceNotFoundException", "Stream %s under account %s not found.", stream, account);
    if (change && op_require_active(c, r->s) != 0)
        return -1;
    r->tags = &r->s->tags;
    r->policy = &r->s->policy;
    r->name = r->s->name;
    return 0;
}

int op_tag_resource(struct op_call *c)
{
    struct resource r;
    if (find_resource(c, &r, 1) != 0)
        return -1;
    return op_apply_tags(c, r.tags, r.name, op_get(c, "Tags"));
}

int op_untag_resource(struct op_call *c)
{
    struct resource r;
    if (find_resource(c, &r, 1) != 0)
        return -1;
    const struct reqin *in = c->in;
    const struct in_val *keys = op_get(c, "TagKeys");
    if (!op_tags_valid(c, r.name, 1, keys, 0))
        return -1;
    for (const struct in_val *k = in_first(in, keys); k; k = in_next(in, keys, k)) {
        size_t kl;
        const char *key = in_str(in, k, &kl);
        tagset_remove(r.tags, key, kl);
    }
    return 0;
}

int op_list_tags_for_resource(struct op_call *c)
{
    struct resource r;
    if (find_resource(c, &r, 0) != 0)
        return -1;
    struct rw *w = c->w;
    rw_map(w);
    rw_key(w, "Tags");
    rw_list(w);
    for (size_t i = 0; i < r.tags->n; i++) {
        rw_map(w);
        rw_kstr(w, "Key", r.tags->v[i].key);
        rw_kstr(w, "Value", r.tags->v[i].value);
        rw_end(w);
    }
    rw_end(w);
    rw_end(w);
    return 0;
}

int op_put_resource_policy(struct op_call *c)
{
    struct resource r;
    if (find_resource(c, &r, 1) != 0)
        return -1;
    size_t n;
    const char *policy = op_str(c, "Policy", &n);
    /* a JSON object, as a policy document is (parsed in a copy: the reader works in place) */
    struct jdoc d;
    struct kt_err err;
    size_t at = 0;
    char *copy = xstrndup(policy, n);
    jdoc_init(&d);
    int ok = jdoc_parse(&d, copy, n, &err, &at) == 0;
    int object = ok && jroot(&d)->type == J_OBJ;
    jdoc_free(&d);
    free(copy);
    if (!object)
        return op_invalid(c, "Policy is not a JSON policy document: %s.",
                          ok ? "it is not a JSON object" : err.msg);
    free(*r.policy);
    *r.policy = xstrndup(policy, n);
    return 0;
}

int op_get_resource_policy(struct op_call *c)
{
    struct resource r;
    if (find_resource(c, &r, 0) != 0)
        return -1;
    rw_map(c->w);
    rw_kstr(c->w, "Policy", *r.policy ? *r.policy : "{}");
    rw_end(c->w);
    return 0;
}

int op_delete_resource_policy(struct op_call *c)
{
    struct resource r;
    if (find_resource(c, &r, 1) != 0)
        return -1;
    if (!*r.policy)
        return op_fail(c, 400, "ResourceNotFoundException", "No resource policy found for resource %s.",
                       op_str(c, "ResourceARN", NULL));
    free(*r.policy);
    *r.policy = NULL;
    return 0;
}
