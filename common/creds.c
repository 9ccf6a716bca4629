/* creds.c — credentials and region from flags, environment and ~/.aws (see creds.h). */
#include "creds.h"

#include "ini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The host part of a URL ("http://host:port/path"). */
static void url_host(const char *url, char *host, size_t cap)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = 0;
    if (*p == '[') {
        p++;
        while (p[n] && p[n] != ']')
            n++;
    } else {
        while (p[n] && p[n] != ':' && p[n] != '/')
            n++;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(host, p, n);
    host[n] = '\0';
}

int creds_endpoint_is_local(const char *url)
{
    char host[256];
    url_host(url, host, sizeof host);
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
           strncmp(host, "127.", 4) == 0;
}

struct ini_want {
    const char *section, *key;
    char *out;
    size_t cap;
};

static int ini_match(void *arg, const char *section, const char *key, const char *value, int line)
{
    struct ini_want *w = arg;
    (void)line;
    if (strcmp(section, w->section) != 0 || strcmp(key, w->key) != 0)
        return 0;
    copy(w->out, w->cap, value);
    return 1;
}

/* Looks up `key` in section `section` of an INI file (AWS style): 1 with the value in out, 0 when absent. */
static int ini_get(const char *path, const char *section, const char *key, char *out, size_t cap)
{
    struct ini_want w = {section, key, out, cap};
    return ini_each(path, ini_match, &w) == 1;
}

static void aws_file(char *out, size_t cap, const char *env_name, const char *leaf)
{
    const char *p = env(env_name);
    if (p) {
        copy(out, cap, p);
        return;
    }
    const char *home = env("HOME");
    snprintf(out, cap, "%s/.aws/%s", home ? home : ".", leaf);
}

int creds_load(struct creds *c, const struct creds_opts *o, struct kt_err *err)
{
    memset(c, 0, sizeof *c);
    const char *profile = o->profile ? o->profile : env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
    char credfile[1024], cfgfile[1024];
    aws_file(credfile, sizeof credfile, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    aws_file(cfgfile, sizeof cfgfile, "AWS_CONFIG_FILE", "config");

    if (o->access_key || o->secret_key) {
        if (!o->access_key || !o->secret_key) {
            kt_err_set(err, "--access-key and --secret-key go together");
            return -1;
        }
        copy(c->access_key, sizeof c->access_key, o->access_key);
        copy(c->secret_key, sizeof c->secret_key, o->secret_key);
        copy(c->token, sizeof c->token, o->session_token);
        copy(c->source, sizeof c->source, "the command line");
    } else if (!o->profile && env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
        copy(c->access_key, sizeof c->access_key, env("AWS_ACCESS_KEY_ID"));
        copy(c->secret_key, sizeof c->secret_key, env("AWS_SECRET_ACCESS_KEY"));
        copy(c->token, sizeof c->token, env("AWS_SESSION_TOKEN"));
        copy(c->source, sizeof c->source, "the environment (AWS_ACCESS_KEY_ID)");
    } else if (ini_get(credfile, profile, "aws_access_key_id", c->access_key, sizeof c->access_key) &&
               ini_get(credfile, profile, "aws_secret_access_key", c->secret_key, sizeof c->secret_key)) {
        ini_get(credfile, profile, "aws_session_token", c->token, sizeof c->token);
        snprintf(c->source, sizeof c->source, "%s [%s]", credfile, profile);
    } else if (creds_endpoint_is_local(o->endpoint) && !o->profile) {
        copy(c->access_key, sizeof c->access_key, "kintape");
        copy(c->secret_key, sizeof c->secret_key, "kintape");
        copy(c->source, sizeof c->source, "dummy credentials for a local endpoint");
    } else {
        kt_err_set(err, "no AWS credentials: give --access-key and --secret-key, set AWS_ACCESS_KEY_ID and "
                        "AWS_SECRET_ACCESS_KEY, or add profile [%s] to %s",
                   profile, credfile);
        return -1;
    }

    /* Region. */
    char host[256];
    url_host(o->endpoint, host, sizeof host);
    char section[300];
    snprintf(section, sizeof section, strcmp(profile, "default") == 0 ? "%s" : "profile %s", profile);
    if (o->region)
        copy(c->region, sizeof c->region, o->region);
    else if (env("AWS_REGION"))
        copy(c->region, sizeof c->region, env("AWS_REGION"));
    else if (env("AWS_DEFAULT_REGION"))
        copy(c->region, sizeof c->region, env("AWS_DEFAULT_REGION"));
    else if (strncmp(host, "kinesis.", 8) == 0 && strchr(host + 8, '.')) {
        size_t n = (size_t)(strchr(host + 8, '.') - (host + 8));
        snprintf(c->region, sizeof c->region, "%.*s", (int)n, host + 8);
    } else if (!ini_get(cfgfile, section, "region", c->region, sizeof c->region))
        copy(c->region, sizeof c->region, "us-east-1");
    return 0;
}
