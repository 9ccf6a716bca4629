/* creds.c — credentials and region from flags, environment and ~/.aws (see creds.h). */
#include "creds.h"

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

/*
 * Looks up `key` in section `section` of an INI file (AWS style). Returns 1
 * with the value in out, 0 when absent or the file is missing.
 */
static int ini_get(const char *path, const char *section, const char *key, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[8192];
    int in = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        s[strcspn(s, "\r\n")] = '\0';
        if (*s == '#' || *s == ';' || !*s)
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e) {
                *e = '\0';
                char *name = s + 1;
                while (*name == ' ')
                    name++;
                in = strcmp(name, section) == 0;
            }
            continue;
        }
        if (!in)
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        char *k = s, *v = eq + 1;
        char *ke = eq;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        *ke = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        if (strcmp(k, key) == 0) {
            copy(out, cap, v);
            found = 1;
        }
    }
    fclose(f);
    return found;
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
