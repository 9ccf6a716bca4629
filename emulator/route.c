/*
 * route.c — requests to answers (see route.h): GET /health (and /_health)
 * report the emulator's state, POST is the Kinesis API, any other method
 * AWS's 403 AccessDeniedException (an XML body).
 */
#include "route.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ktime.h"
#include "rw.h"

const char *const hdr_names[H_COUNT] = {"x-amz-target", "authorization", "content-type",
                                        "x-amz-date", "date", "expect"};

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
    if (req->is_get && (path_is(req, "/health") || path_is(req, "/_health"))) {
        health(w, resp->body);
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
    struct api_resp aresp = {.body = resp->body};
    api_handle(ctx, &areq, &aresp);
    resp->status = aresp.status;
    resp->content_type = aresp.content_type;
    resp->delay_ms = aresp.delay_ms;
}
