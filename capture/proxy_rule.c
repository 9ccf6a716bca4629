/*
 * proxy_rule.c — which hosts the proxy intercepts, tunnels or refuses,
 * where it connects for them, and the operator's log (see proxy_int.h).
 *
 * Forward mode is never an open relay: CONNECT reaches port 443, or a port
 * an --intercept or --allow pattern names; plain http:// requests reach
 * port 80 or such a port; and when --allow patterns are given, only the
 * hosts they match.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proxy_int.h"

static const char *const kinesis_hosts[] = {
    "kinesis.*.amazonaws.com",   "*.kinesis.*.amazonaws.com",   "kinesis-fips.*.amazonaws.com",
    "kinesis.*.amazonaws.com.cn", "*.kinesis.*.amazonaws.com.cn", "kinesis.*.api.aws",
};

int64_t proxy_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void plog(struct proxy *p, enum proxy_log level, const char *fmt, ...)
{
    if (!p->cfg.log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->cfg.log(p->cfg.ctx, level, msg);
}

void proxy_fail(struct proxy *p, const struct kt_err *err)
{
    if (!p->failed) {
        p->failed = 1;
        p->err = *err;
    }
    event_base_loopbreak(p->base);
}

int hp_parse(const char *s, size_t n, struct hostport *hp)
{
    memset(hp, 0, sizeof *hp);
    const char *host = s, *port = NULL;
    size_t hl = n;
    if (n && s[0] == '[') {
        const char *e = memchr(s, ']', n);
        if (!e)
            return -1;
        host = s + 1;
        hl = (size_t)(e - s - 1);
        if ((size_t)(e + 1 - s) < n) {
            if (e[1] != ':')
                return -1;
            port = e + 2;
        }
    } else {
        const char *c = memchr(s, ':', n);
        if (c && memchr(c + 1, ':', n - (size_t)(c + 1 - s)))
            c = NULL; /* a bare IPv6 address */
        if (c) {
            hl = (size_t)(c - s);
            port = c + 1;
        }
    }
    if (hl == 0 || hl >= sizeof hp->host)
        return -1;
    for (size_t i = 0; i < hl; i++) {
        unsigned char ch = (unsigned char)host[i];
        if (!(isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == ':' || ch == '*'))
            return -1;
    }
    memcpy(hp->host, host, hl);
    hp->host[hl] = '\0';
    if (port) {
        size_t pl = n - (size_t)(port - s);
        unsigned v = 0;
        if (pl == 0 || pl > 5)
            return -1;
        for (size_t i = 0; i < pl; i++) {
            if (!isdigit((unsigned char)port[i]))
                return -1;
            v = v * 10 + (unsigned)(port[i] - '0');
        }
        if (v == 0 || v > 65535)
            return -1;
        hp->port = (uint16_t)v;
    }
    return 0;
}

int host_match(const char *pat, const char *host)
{
    for (; *pat; pat++, host++) {
        if (*pat == '*') {
            /* one character or more */
            for (const char *h = host + (*host ? 1 : 0); *host; h++) {
                if (host_match(pat + 1, h))
                    return 1;
                if (!*h)
                    break;
            }
            return 0;
        }
        if (!*host || tolower((unsigned char)*pat) != tolower((unsigned char)*host))
            return 0;
    }
    return *host == '\0';
}

int proxy_is_kinesis_host(const char *host)
{
    for (size_t i = 0; i < sizeof kinesis_hosts / sizeof *kinesis_hosts; i++)
        if (host_match(kinesis_hosts[i], host))
            return 1;
    return 0;
}

void proxy_route(const struct proxy *p, const struct hostport *hp, struct hostport *out)
{
    for (size_t i = 0; i < p->nremap; i++) {
        if (strcasecmp(p->remap[i].from.host, hp->host) == 0 && p->remap[i].from.port == hp->port) {
            *out = p->remap[i].to;
            return;
        }
    }
    *out = *hp;
}

/* A rule matches hp: its host pattern, and its port (or dflt when it names none). */
static int rule_match(const struct rule *r, const struct hostport *hp, uint16_t dflt)
{
    return host_match(r->host, hp->host) && hp->port == (r->port ? r->port : dflt);
}

static int allowed_host(const struct proxy *p, const struct hostport *hp)
{
    if (!p->nallow)
        return 1;
    for (size_t i = 0; i < p->nallow; i++)
        if (host_match(p->allow[i].host, hp->host))
            return 1;
    return 0;
}

static int named_port(const struct proxy *p, const struct hostport *hp)
{
    for (size_t i = 0; i < p->nallow; i++)
        if (p->allow[i].port && rule_match(&p->allow[i], hp, 0))
            return 1;
    for (size_t i = 0; i < p->nintercept; i++)
        if (p->intercept[i].port && rule_match(&p->intercept[i], hp, 0))
            return 1;
    return 0;
}

int proxy_connect_policy(const struct proxy *p, const struct hostport *hp)
{
    if (!allowed_host(p, hp))
        return 0;
    for (size_t i = 0; i < p->nintercept; i++)
        if (rule_match(&p->intercept[i], hp, 443))
            return ptls_has_ca(p->tls) ? 1 : 2;
    for (size_t i = 0; i < sizeof kinesis_hosts / sizeof *kinesis_hosts; i++)
        if (hp->port == 443 && host_match(kinesis_hosts[i], hp->host))
            return ptls_has_ca(p->tls) ? 1 : 2;
    return hp->port == 443 || named_port(p, hp) ? 2 : 0;
}

int proxy_http_allowed(const struct proxy *p, const struct hostport *hp)
{
    return allowed_host(p, hp) && (hp->port == 80 || named_port(p, hp));
}

int proxy_hop_header(const char *n, size_t l)
{
    static const char *const hop[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                      "upgrade",    "te",         "trailer"};
    for (size_t i = 0; i < sizeof hop / sizeof *hop; i++)
        if (strlen(hop[i]) == l && strncasecmp(hop[i], n, l) == 0)
            return 1;
    return 0;
}
