/*
 * schema.c — Kinesis input shapes (from the API model, Kinesis_20131202) and
 * their two-step validation (see schema.h).
 */
#include "schema.h"

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
    default: return "";
    }
}

/* ------------------------------------------------------------ validation */

struct vstate {
    const struct jdoc *d;
    struct kbuf *msg;
    int count;           /* constraint violations */
    struct kbuf errors;  /* "Value ... ; Value ..." */
    char path[512];
};

static const char *kind_name(enum schema_kind k)
{
    switch (k) {
    case SK_STRING: return "a string";
    case SK_INT: return "an integer";
    case SK_LONG: return "an integer";
    case SK_BOOL: return "a boolean";
    case SK_BLOB: return "a base64 string";
    case SK_TIMESTAMP: return "a timestamp (epoch seconds)";
    case SK_STRUCT: return "an object";
    case SK_LIST: return "an array";
    case SK_MAP: return "an object";
    }
    return "a value";
}

/* Passed as the value of a violation whose value AWS does not print ("Value at 'x' ..."). */
static struct jnode novalue_marker;
#define NOVALUE (&novalue_marker)

static void violation(struct vstate *vs, const struct jnode *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void violation(struct vstate *vs, const struct jnode *v, const char *fmt, ...)
{
    if (vs->count++)
        kbuf_puts(&vs->errors, "; ");
    if (!v) {
        kbuf_puts(&vs->errors, "Value null");
    } else if (v == NOVALUE) {
        kbuf_puts(&vs->errors, "Value");
    } else if (v->type == J_STR) {
        kbuf_puts(&vs->errors, "Value '");
        kbuf_append(&vs->errors, jstr(vs->d, v), v->len);
        kbuf_putc(&vs->errors, '\'');
    } else if (v->type == J_NUM) {
        kbuf_puts(&vs->errors, "Value '");
        kbuf_append(&vs->errors, vs->d->text + v->start, v->len);
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

static size_t path_push_index(struct vstate *vs, size_t i)
{
    size_t old = strlen(vs->path);
    snprintf(vs->path + old, sizeof vs->path - old, ".%zu.member", i + 1);
    return old;
}

static enum schema_result check_shape(struct vstate *vs, const struct schema_shape *shape, const struct jnode *obj);

static int64_t blob_len(const char *s, size_t n)
{
    size_t pad = 0;
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
        pad++;
    size_t full = (n - pad) / 4 * 3;
    size_t rem = (n - pad) % 4;
    return (int64_t)(full + (rem ? rem - 1 : 0));
}

static void check_length(struct vstate *vs, const struct schema_field *f, const struct jnode *v, int64_t len)
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

static enum schema_result check_value(struct vstate *vs, const struct schema_field *f, const struct jnode *v)
{
    const struct jdoc *d = vs->d;
    switch (f->kind) {
    case SK_STRING: {
        if (v->type != J_STR)
            goto type;
        const char *s = jstr(d, v);
        size_t n = v->len;
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
        if (v->type != J_STR)
            goto type;
        check_length_noval(vs, f, blob_len(jstr(d, v), v->len));
        return SCHEMA_OK;
    case SK_INT:
    case SK_LONG: {
        long long x;
        if (v->type != J_NUM || !v->is_int)
            goto type;
        if (jint(d, v, &x) != 0 || (f->kind == SK_INT && (x > INT32_MAX || x < INT32_MIN))) {
            kbuf_appendf(vs->msg, "Numeric value (%.*s) of member '%s' is out of range of %s",
                         (int)KT_MIN(v->len, 64), d->text + v->start, vs->path, f->kind == SK_INT ? "int" : "long");
            return SCHEMA_SERIALIZATION;
        }
        if (f->min != NL && x < f->min)
            violation(vs, v, "Member must have value greater than or equal to %lld", (long long)f->min);
        if (f->max != NL && x > f->max)
            violation(vs, v, "Member must have value less than or equal to %lld", (long long)f->max);
        return SCHEMA_OK;
    }
    case SK_BOOL:
        if (v->type != J_TRUE && v->type != J_FALSE)
            goto type;
        return SCHEMA_OK;
    case SK_TIMESTAMP:
        if (v->type != J_NUM && v->type != J_STR)
            goto type;
        return SCHEMA_OK;
    case SK_STRUCT:
        if (v->type != J_OBJ)
            goto type;
        return check_shape(vs, f->shape, v);
    case SK_LIST: {
        if (v->type != J_ARR)
            goto type;
        check_length_noval(vs, f, (int64_t)v->len);
        size_t i = 0;
        for (const struct jnode *e = jfirst(d, v); e; e = jnext(d, v, e), i++) {
            size_t old = path_push_index(vs, i);
            enum schema_result r = SCHEMA_OK;
            if (e->type == J_NULL) {
                violation(vs, NULL, "Member must not be null");
            } else if (f->shape) {
                if (e->type != J_OBJ) {
                    kbuf_appendf(vs->msg, "Expected an object at '%s' but found %s", vs->path,
                                 jtype_name((enum jtype)e->type));
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
        if (v->type != J_OBJ)
            goto type;
        check_length_noval(vs, f, (int64_t)v->len);
        for (const struct jnode *k = jfirst(d, v); k; k = jnext(d, v, k)) {
            const struct jnode *e = k + 1;
            int64_t ku = (int64_t)utf8_utf16_len(jstr(d, k), k->len);
            if ((f->elem->min != NL && ku < f->elem->min) || (f->elem->max != NL && ku > f->elem->max))
                violation(vs, NOVALUE,
                          "Map keys must satisfy constraint: [Member must have length less than or "
                          "equal to %lld, Member must have length greater than or equal to %lld]",
                          (long long)f->elem->max, (long long)f->elem->min);
            if (e->type != J_STR) {
                kbuf_appendf(vs->msg, "Expected a string for the value of '%s' in '%s' but found %s", jstr(d, k),
                             vs->path, jtype_name((enum jtype)e->type));
                return SCHEMA_SERIALIZATION;
            }
            int64_t vu = (int64_t)utf8_utf16_len(jstr(d, e), e->len);
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
    kbuf_appendf(vs->msg, "Expected %s for member '%s' but found %s", kind_name(f->kind), vs->path,
                 jtype_name((enum jtype)v->type));
    return SCHEMA_SERIALIZATION;
}

static enum schema_result check_shape(struct vstate *vs, const struct schema_shape *shape, const struct jnode *obj)
{
    for (size_t i = 0; i < shape->n; i++) {
        const struct schema_field *f = &shape->fields[i];
        const struct jnode *v = jget(vs->d, obj, f->name);
        size_t old = path_push(vs, f->name);
        enum schema_result r = SCHEMA_OK;
        if (!v || v->type == J_NULL) {
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

enum schema_result schema_check(const struct schema_shape *shape, const struct jdoc *d, const struct jnode *obj,
                                struct kbuf *msg)
{
    struct vstate vs = {.d = d, .msg = msg, .count = 0, .errors = KBUF_INIT, .path = ""};
    enum schema_result r = check_shape(&vs, shape, obj);
    if (r == SCHEMA_OK && vs.count) {
        kbuf_appendf(msg, "%d validation error%s detected: %s", vs.count, vs.count == 1 ? "" : "s",
                     vs.errors.p);
        r = SCHEMA_VALIDATION;
    }
    kbuf_free(&vs.errors);
    return r;
}

/* ---------------------------------------------------------------- shapes */

#define STR(n, req, lo, hi, pat) {n, SK_STRING, req, lo, hi, pat, NULL, NULL, NULL, NULL}
#define INT(n, req, lo, hi) {n, SK_INT, req, lo, hi, PAT_NONE, NULL, NULL, NULL, NULL}
#define BOOL(n) {n, SK_BOOL, 0, NL, NL, PAT_NONE, NULL, NULL, NULL, NULL}
#define TS(n) {n, SK_TIMESTAMP, 0, NL, NL, PAT_NONE, NULL, NULL, NULL, NULL}
#define ENUM(n, req, set) {n, SK_STRING, req, NL, NL, PAT_NONE, set, NULL, NULL, NULL}
#define SHAPE(a) {a, sizeof(a) / sizeof((a)[0])}

#define F_STREAM_NAME(req) STR("StreamName", req, 1, 128, PAT_NAME)
#define F_STREAM_ARN STR("StreamARN", 0, 1, 2048, PAT_STREAM_ARN)
#define F_STREAM_ID STR("StreamId", 0, 1, 24, PAT_STREAM_ID)

static const char *const stream_modes[] = {"PROVISIONED", "ON_DEMAND", NULL};
static const char *const iterator_types[] = {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER",
                                             "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", NULL};
static const char *const shard_filter_types[] = {"AFTER_SHARD_ID", "AT_TRIM_HORIZON",
                                                 "FROM_TRIM_HORIZON", "AT_LATEST",
                                                 "AT_TIMESTAMP", "FROM_TIMESTAMP", NULL};

static const struct schema_field tag_key = STR("TagKey", 0, 1, 128, PAT_NONE);
static const struct schema_field tag_value = STR("TagValue", 0, 0, 256, PAT_NONE);
#define F_TAGS(req) {"Tags", SK_MAP, req, 1, 200, PAT_NONE, NULL, NULL, &tag_key, &tag_value}

static const struct schema_field stream_mode_details_f[] = {
    ENUM("StreamMode", 1, stream_modes),
};
static const struct schema_shape stream_mode_details = SHAPE(stream_mode_details_f);

static const struct schema_field create_stream_f[] = {
    F_STREAM_NAME(1),
    INT("ShardCount", 0, 1, NL),
    {"StreamModeDetails", SK_STRUCT, 0, NL, NL, PAT_NONE, NULL, &stream_mode_details, NULL, NULL},
    F_TAGS(0),
    INT("WarmThroughputMiBps", 0, 0, NL),
    INT("MaxRecordSizeInKiB", 0, 1024, 10240),
};
const struct schema_shape shape_CreateStream = SHAPE(create_stream_f);

static const struct schema_field delete_stream_f[] = {
    F_STREAM_NAME(0),
    BOOL("EnforceConsumerDeletion"),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_DeleteStream = SHAPE(delete_stream_f);

static const struct schema_field describe_stream_f[] = {
    F_STREAM_NAME(0),
    INT("Limit", 0, 1, 10000),
    STR("ExclusiveStartShardId", 0, 1, 128, PAT_NAME),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_DescribeStream = SHAPE(describe_stream_f);

static const struct schema_field stream_only_f[] = {
    F_STREAM_NAME(0),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_DescribeStreamSummary = SHAPE(stream_only_f);

static const struct schema_field list_streams_f[] = {
    INT("Limit", 0, 1, 10000),
    STR("ExclusiveStartStreamName", 0, 1, 128, PAT_NAME),
    STR("NextToken", 0, 1, 1048576, PAT_NONE),
};
const struct schema_shape shape_ListStreams = SHAPE(list_streams_f);

static const struct schema_field shard_filter_f[] = {
    ENUM("Type", 1, shard_filter_types),
    STR("ShardId", 0, 1, 128, PAT_NAME),
    TS("Timestamp"),
};
static const struct schema_shape shard_filter = SHAPE(shard_filter_f);

static const struct schema_field list_shards_f[] = {
    F_STREAM_NAME(0),
    STR("NextToken", 0, 1, 1048576, PAT_NONE),
    STR("ExclusiveStartShardId", 0, 1, 128, PAT_NAME),
    INT("MaxResults", 0, 1, 10000),
    TS("StreamCreationTimestamp"),
    {"ShardFilter", SK_STRUCT, 0, NL, NL, PAT_NONE, NULL, &shard_filter, NULL, NULL},
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_ListShards = SHAPE(list_shards_f);

#define F_DATA {"Data", SK_BLOB, 1, 0, 10485760, PAT_NONE, NULL, NULL, NULL, NULL}
#define F_PARTITION_KEY STR("PartitionKey", 1, 1, 256, PAT_NONE)
#define F_HASH_KEY STR("ExplicitHashKey", 0, NL, NL, PAT_HASH_KEY)

static const struct schema_field put_record_f[] = {
    F_STREAM_NAME(0),
    F_DATA,
    F_PARTITION_KEY,
    F_HASH_KEY,
    STR("SequenceNumberForOrdering", 0, NL, NL, PAT_SEQUENCE),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_PutRecord = SHAPE(put_record_f);

static const struct schema_field put_records_entry_f[] = {
    F_DATA,
    F_HASH_KEY,
    F_PARTITION_KEY,
};
static const struct schema_shape put_records_entry = SHAPE(put_records_entry_f);

static const struct schema_field put_records_f[] = {
    {"Records", SK_LIST, 1, 1, 500, PAT_NONE, NULL, &put_records_entry, NULL, NULL},
    F_STREAM_NAME(0),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_PutRecords = SHAPE(put_records_f);

static const struct schema_field get_shard_iterator_f[] = {
    F_STREAM_NAME(0),
    STR("ShardId", 1, 1, 128, PAT_NAME),
    ENUM("ShardIteratorType", 1, iterator_types),
    STR("StartingSequenceNumber", 0, NL, NL, PAT_SEQUENCE),
    TS("Timestamp"),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_GetShardIterator = SHAPE(get_shard_iterator_f);

static const struct schema_field get_records_f[] = {
    STR("ShardIterator", 1, 1, 512, PAT_NONE),
    INT("Limit", 0, 1, 10000),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_GetRecords = SHAPE(get_records_f);

static const struct schema_field add_tags_f[] = {
    F_STREAM_NAME(0),
    F_TAGS(1),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_AddTagsToStream = SHAPE(add_tags_f);

static const struct schema_field remove_tags_f[] = {
    F_STREAM_NAME(0),
    {"TagKeys", SK_LIST, 1, 1, 50, PAT_NONE, NULL, NULL, &tag_key, NULL},
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_RemoveTagsFromStream = SHAPE(remove_tags_f);

static const struct schema_field list_tags_f[] = {
    F_STREAM_NAME(0),
    STR("ExclusiveStartTagKey", 0, 1, 128, PAT_NONE),
    INT("Limit", 0, 1, 50),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_ListTagsForStream = SHAPE(list_tags_f);

static const struct schema_field retention_f[] = {
    F_STREAM_NAME(0),
    INT("RetentionPeriodHours", 1, NL, NL),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_IncreaseStreamRetentionPeriod = SHAPE(retention_f);
const struct schema_shape shape_DecreaseStreamRetentionPeriod = SHAPE(retention_f);

static const struct schema_field no_members_f[] = {
    {NULL, SK_STRING, 0, NL, NL, PAT_NONE, NULL, NULL, NULL, NULL},
};
const struct schema_shape shape_DescribeLimits = {no_members_f, 0};
