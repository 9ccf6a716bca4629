/*
 * store_meta.c — what the store keeps beside streams and their records (see
 * store.h): consumers, tag sets and account settings.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store.h"

/* ------------------------------------------------------------- consumers */

struct consumer *stream_consumer_add(struct stream *s, const char *name, const char *account, int64_t now_ms,
                                     int64_t create_delay_ms)
{
    struct consumer *cn = xcalloc(1, sizeof *cn);
    snprintf(cn->name, sizeof cn->name, "%s", name);
    /* arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<creation, epoch seconds> */
    snprintf(cn->arn, sizeof cn->arn, "arn:aws:kinesis:%s:%s:stream/%s/consumer/%s:%lld", s->region, account,
             s->name, name, (long long)(now_ms / 1000));
    cn->created_ms = now_ms;
    cn->active_at_ms = now_ms + create_delay_ms;
    pthread_mutex_init(&cn->mu, NULL);
    cn->next = s->consumers;
    s->consumers = cn;
    s->nconsumers++;
    return cn;
}

struct consumer *stream_consumer_find(const struct stream *s, const char *name)
{
    for (struct consumer *cn = s->consumers; cn; cn = cn->next)
        if (strcmp(cn->name, name) == 0)
            return cn;
    return NULL;
}

void stream_consumer_remove(struct stream *s, struct consumer *cn)
{
    for (struct consumer **pp = &s->consumers; *pp; pp = &(*pp)->next) {
        if (*pp == cn) {
            *pp = cn->next;
            s->nconsumers--;
            pthread_mutex_destroy(&cn->mu);
            free(cn->recent);
            tagset_free(&cn->tags);
            free(cn->policy);
            free(cn);
            return;
        }
    }
}

#define RESUBSCRIBE_MS 5000

int consumer_subscribe_ok(struct consumer *cn, uint32_t shard, int64_t now_ms)
{
    int ok = 1;
    pthread_mutex_lock(&cn->mu);
    size_t k = 0;
    for (size_t i = 0; i < cn->nrecent; i++) { /* drop the old ones as we go */
        if (now_ms - cn->recent[i].at_ms >= RESUBSCRIBE_MS)
            continue;
        if (cn->recent[i].shard == shard)
            ok = 0;
        cn->recent[k++] = cn->recent[i];
    }
    cn->nrecent = k;
    if (ok) {
        cn->recent = xrealloc(cn->recent, (cn->nrecent + 1) * sizeof *cn->recent);
        cn->recent[cn->nrecent++] = (struct recent_sub){shard, now_ms};
    }
    pthread_mutex_unlock(&cn->mu);
    return ok;
}

/* ------------------------------------------------------------------ tags */

/* Orders a stored key (NUL-terminated) against key b of blen bytes. */
static int tag_cmp(const char *a, const char *b, size_t blen)
{
    size_t alen = strlen(a);
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

void tagset_set(struct tagset *t, const char *key, size_t klen, const char *value, size_t vlen)
{
    size_t i = 0;
    while (i < t->n && tag_cmp(t->v[i].key, key, klen) < 0)
        i++;
    if (i < t->n && tag_cmp(t->v[i].key, key, klen) == 0) {
        free(t->v[i].value);
        t->v[i].value = xstrndup(value, vlen);
        return;
    }
    t->v = xrealloc(t->v, (t->n + 1) * sizeof *t->v);
    memmove(t->v + i + 1, t->v + i, (t->n - i) * sizeof *t->v);
    t->v[i].key = xstrndup(key, klen);
    t->v[i].value = xstrndup(value, vlen);
    t->n++;
}

void tagset_remove(struct tagset *t, const char *key, size_t klen)
{
    for (size_t i = 0; i < t->n; i++) {
        if (tag_cmp(t->v[i].key, key, klen) == 0) {
            free(t->v[i].key);
            free(t->v[i].value);
            memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof *t->v);
            t->n--;
            return;
        }
    }
}

size_t tagset_after(const struct tagset *t, const char *after)
{
    size_t i = 0;
    if (after)
        while (i < t->n && strcmp(t->v[i].key, after) <= 0)
            i++;
    return i;
}

int tagset_has(const struct tagset *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].key, key) == 0)
            return 1;
    return 0;
}

void tagset_free(struct tagset *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].value);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

struct account_settings *store_account(struct store *st, const char *account)
{
    for (struct account_settings *a = st->accounts; a; a = a->next)
        if (strcmp(a->account, account) == 0)
            return a;
    struct account_settings *a = xcalloc(1, sizeof *a);
    snprintf(a->account, sizeof a->account, "%s", account);
    a->next = st->accounts;
    st->accounts = a;
    return a;
}
