/*
 * route.c — requests to answers (see route.h): GET /health (and /_health)
 * report the emulator's state, POST is the Kinesis API, any other method
 * AWS's 403 AccessDeniedException (an XML body).
 */
#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ktime.h"
#include "rw.h"

const char *const hdr_names[H_COUNT] = {"x-amz-target", "authorization", "content-type",
                                        "x-amz-date", "date", "expect", "origin",
                                        "access-control-request-method", "access-control-request-headers"};

enum hdr hdr_lookup(const char *name, size_t len)
{
    for (int i = 0; i < H_COUNT; i++)
        if (strlen(hdr_names[i]) == len && strncasecmp(hdr_names[i], name, len) == 0)
            return (enum hdr)i;
    return H_NONE;
}

void route_error(struct http_response *resp, int status, const char *type, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/x-amz-json-1.1";
    rw_json_error(resp->body, type, msg);
}

/* origin (n bytes) is one of the comma-separated list (spaces around items allowed). */
static int origin_listed(const char *list, const char *origin, size_t n)
{
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == n && n && memcmp(p, origin, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

static void copy_value(char *out, size_t cap, const char *v, size_t n)
{
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v ? v : "");
    for (char *p = out; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
}

void route_cors(const char *origins, const struct http_request *req, struct http_cors *out)
{
    out->origin[0] = out->methods[0] = out->headers[0] = '\0';
    out->preflight = 0;
    const char *origin = req->hval[H_ORIGIN];
    size_t n = req->hlen[H_ORIGIN];
    if (!origin || !origins || strcmp(origins, "none") == 0)
        return;
    if (strcmp(origins, "*") == 0)
        snprintf(out->origin, sizeof out->origin, "*");
    else if (origin_listed(origins, origin, n) && n < sizeof out->origin)
        copy_value(out->origin, sizeof out->origin, origin, n);
    else
        return;
    if (req->is_options) {
        out->preflight = 1;
        copy_value(out->methods, sizeof out->methods, req->hval[H_ACRM], req->hlen[H_ACRM]);
        copy_value(out->headers, sizeof out->headers, req->hval[H_ACRH], req->hlen[H_ACRH]);
    }
}

void route_cors_lines(const struct http_cors *c, struct kbuf *b)
{
    if (!c || !c->origin[0])
        return;
    kbuf_appendf(b, "Access-Control-Allow-Origin: %s\r\n", c->origin);
    if (!c->preflight) {
        kbuf_puts(b, "Access-Control-Expose-Headers: " CORS_EXPOSE "\r\n");
        return;
    }
    if (c->methods[0])
        kbuf_appendf(b, "Access-Control-Allow-Methods: %s\r\n", c->methods);
    if (c->headers[0])
        kbuf_appendf(b, "Access-Control-Allow-Headers: %s\r\n", c->headers);
    kbuf_puts(b, "Access-Control-Max-Age: " CORS_MAX_AGE "\r\n");
}

static void health(struct worker *w, struct kbuf *b)
{
    struct emu *emu = w->emu;
    uint64_t bytes, records, shards, streams;
    int64_t now = kt_now_ms();
    store_rdlock(&emu->store);
    store_totals(&emu->store, now, &bytes, &records, &shards, &streams);
    store_unlock(&emu->store);
    kbuf_appendf(b,
                 "{\"status\":\"running\",\"service\":\"kinesis\",\"version\":\"%s\",\"uptime_seconds\":%lld,"
                 "\"streams\":%llu,\"shards\":%llu,\"records\":%llu,\"bytes\":%llu,\"requests\":%llu,"
                 "\"connections\":%d,\"connections_refused\":%llu,\"requests_timed_out\":%llu,"
                 "\"unsent_bytes\":%zu,\"tls\":{\"enabled\":%s,\"handshakes\":%llu,\"failures\":%llu,"
                 "\"alpn_h2\":%llu},\"signatures\":{\"verified\":%s,\"refused\":%llu}}",
                 emu->version, (long long)((now - emu->started_ms) / 1000), (unsigned long long)streams,
                 (unsigned long long)shards, (unsigned long long)records, (unsigned long long)bytes,
                 (unsigned long long)atomic_load(&emu->requests), atomic_load(&emu->connections),
                 (unsigned long long)atomic_load(&emu->refused), (unsigned long long)atomic_load(&emu->timeouts),
                 (size_t)atomic_load(&emu->out_held), emu->tls ? "true" : "false",
                 (unsigned long long)atomic_load(&emu->tls_handshakes),
                 (unsigned long long)atomic_load(&emu->tls_failures),
                 (unsigned long long)atomic_load(&emu->tls_alpn_h2), emu->cfg.verify_signatures ? "true" : "false",
                 (unsigned long long)atomic_load(&emu->auth_failures));
}

static int path_is(const struct http_request *req, const char *path);

/*
 * --test-clock: POST /_kintape/clock?advance_ms=N moves the emulator's clock
 * N ms on (records' ages, retention, iterator expiry), so tests need not
 * wait hours. Answers the clock's time.
 */
static void test_clock(struct worker *w, const struct http_request *req, struct http_response *resp)
{
    const char *q = memchr(req->path, '?', req->path_len);
    static const char key[] = "advance_ms=";
    long long ms = 0;
    if (q && (size_t)(req->path + req->path_len - q - 1) > sizeof key - 1 && memcmp(q + 1, key, sizeof key - 1) == 0) {
        char num[24];
        size_t n = (size_t)(req->path + req->path_len - (q + sizeof key));
        if (n < sizeof num) {
            memcpy(num, q + sizeof key, n);
            num[n] = '\0';
            char *end;
            ms = strtoll(num, &end, 10);
            if (*end || ms < 0)
                ms = -1;
        } else {
            ms = -1;
        }
    }
    if (ms < 0) {
        route_error(resp, 400, "InvalidArgumentException", "expected POST /_kintape/clock?advance_ms=N (N >= 0)");
        return;
    }
    atomic_fetch_add(&w->emu->clock_offset_ms, ms);
    kbuf_appendf(resp->body, "{\"now_ms\":%lld,\"offset_ms\":%lld}", (long long)emu_now_ms(w->emu),
                 (long long)atomic_load(&w->emu->clock_offset_ms));
}

static int path_is(const struct http_request *req, const char *path)
{
    size_t n = strlen(path);
    return req->path_len >= n && memcmp(req->path, path, n) == 0 &&
           (req->path_len == n || req->path[n] == '?');
}

void route_serve(struct worker *w, struct http_request *req, struct http_response *resp)
{
    resp->status = 200;
    resp->delay_ms = 0;
    resp->content_type = "application/x-amz-json-1.1";
    route_cors(w->emu->cfg.cors_origins, req, &resp->cors);
    if (resp->cors.preflight) {
        /* A browser's preflight from an allowed origin: an empty 200 with the CORS headers. */
        resp->content_type = NULL;
        return;
    }
    if (req->is_get && (path_is(req, "/health") || path_is(req, "/_health"))) {
        health(w, resp->body);
        return;
    }
    if (w->emu->cfg.test_clock && req->is_post && path_is(req, "/_kintape/clock")) {
        test_clock(w, req, resp);
        return;
    }
    if (!req->is_post) {
        /* What AWS answers any other method, on any path: a 403 with an XML body. */
        resp->status = 403;
        resp->content_type = NULL;
        kbuf_puts(resp->body, "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to "
                              "be authorized</Message>\n</AccessDeniedException>\n");
        return;
    }
    route_api(&w->api, req, resp);
}

int route_is_heavy(const struct http_request *req)
{
    static const char op[] = ".GetRecords";
    size_t n = sizeof op - 1, tl = req->hlen[H_TARGET];
    return req->is_post && req->hval[H_TARGET] && tl > n && memcmp(req->hval[H_TARGET] + tl - n, op, n) == 0;
}

void route_api(struct api_ctx *ctx, const struct http_request *req, struct http_response *resp)
{
    resp->status = 200;
    resp->delay_ms = 0;
    resp->content_type = "application/x-amz-json-1.1";
    struct api_req areq = {
        .method = req->method,
        .path = req->path,
        .path_len = req->path_len,
        .hblock = req->hblock,
        .hblock_len = req->hblock_len,
        .target = req->hval[H_TARGET],
        .target_len = req->hlen[H_TARGET],
        .auth = req->hval[H_AUTH],
        .auth_len = req->hlen[H_AUTH],
        .has_date = req->hval[H_AMZDATE] || req->hval[H_DATE],
        .content_type = req->hval[H_CTYPE],
        .content_type_len = req->hlen[H_CTYPE],
        .body = req->body,
        .body_len = req->body_len,
    };
    struct api_resp aresp = {.body = resp->body, .sub = &resp->sub};
    resp->streaming = 0;
    api_handle(ctx, &areq, &aresp);
    resp->streaming = aresp.streaming;
    resp->status = aresp.status;
    resp->content_type = aresp.content_type;
    resp->delay_ms = aresp.delay_ms;
}
