/* authkeys.c — the verifying emulator's credentials (see authkeys.h). */
#include "authkeys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"
#include "mem.h"

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void key_free(struct authkey *a)
{
    free(a->key);
    free(a->secret);
    free(a->token);
    free(a->origin);
}

int authkeys_add(struct authkeys *k, const char *key, const char *secret, const char *token, const char *origin,
                 struct kt_err *err)
{
    if (!key || !*key || strlen(key) > 128 || strcspn(key, "/ ,=") != strlen(key)) {
        kt_err_set(err, "%s: '%s' is not an access key id (1-128 characters, no '/', ' ', ',' or '=')", origin,
                   key ? key : "");
        return -1;
    }
    if (!secret || !*secret) {
        kt_err_set(err, "%s: access key %s has no secret", origin, key);
        return -1;
    }
    struct authkey *a = (struct authkey *)authkeys_find(k, key);
    if (a) {
        key_free(a);
    } else {
        if (k->n == k->cap) {
            k->cap = k->cap ? k->cap * 2 : 8;
            k->v = xrealloc(k->v, k->cap * sizeof *k->v);
        }
        a = &k->v[k->n++];
    }
    a->key = xstrdup(key);
    a->secret = xstrdup(secret);
    a->token = dup_or_null(token);
    a->origin = xstrdup(origin);
    return 0;
}

/* One profile of the file being read: what it says so far. */
struct loading {
    struct authkeys *k;
    const char *path;
    struct kt_err *err;
    char section[256];
    char *key, *secret, *token;
    int line;
};

static int flush(struct loading *l)
{
    int rc = 0;
    if (l->key || l->secret) {
        char origin[1400];
        snprintf(origin, sizeof origin, "%s [%s] (line %d)", l->path, l->section, l->line);
        if (!l->key) {
            kt_err_set(l->err, "%s: aws_secret_access_key without aws_access_key_id", origin);
            rc = -1;
        } else {
            rc = authkeys_add(l->k, l->key, l->secret, l->token, origin, l->err);
        }
    }
    free(l->key);
    free(l->secret);
    free(l->token);
    l->key = l->secret = l->token = NULL;
    return rc;
}

static int entry(void *arg, const char *section, const char *key, const char *value, int line)
{
    struct loading *l = arg;
    if (strcmp(section, l->section) != 0) {
        if (flush(l) != 0)
            return -2;
        snprintf(l->section, sizeof l->section, "%s", section);
    }
    char **slot = strcmp(key, "aws_access_key_id") == 0       ? &l->key
                  : strcmp(key, "aws_secret_access_key") == 0 ? &l->secret
                  : strcmp(key, "aws_session_token") == 0     ? &l->token
                                                              : NULL;
    if (slot) {
        free(*slot);
        *slot = xstrdup(value);
        if (slot == &l->key)
            l->line = line;
    }
    return 0;
}

int authkeys_load(struct authkeys *k, const char *path, struct kt_err *err)
{
    struct loading l = {.k = k, .path = path, .err = err};
    size_t before = k->n;
    int rc = ini_each(path, entry, &l);
    if (rc == -1) {
        kt_err_set(err, "--credentials %s: %s", path, strerror(errno));
        return -1;
    }
    if (rc != 0 || flush(&l) != 0) {
        flush(&l);
        return -1;
    }
    if (k->n == before) {
        kt_err_set(err, "--credentials %s: no profile with aws_access_key_id and aws_secret_access_key", path);
        return -1;
    }
    return 0;
}

const struct authkey *authkeys_find(const struct authkeys *k, const char *key)
{
    for (size_t i = 0; k && i < k->n; i++)
        if (strcmp(k->v[i].key, key) == 0)
            return &k->v[i];
    return NULL;
}

void authkeys_free(struct authkeys *k)
{
    for (size_t i = 0; i < k->n; i++)
        key_free(&k->v[i]);
    free(k->v);
    memset(k, 0, sizeof *k);
}
