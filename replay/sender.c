/* sender.c — signed Kinesis calls over libcurl's multi interface (see sender.h). */
#include "sender.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "ktime.h"
#include "mem.h"
#include "sigv4.h"

#define MAX_ANSWER ((size_t)4 << 20) /* no Kinesis answer to a replay's calls is this large */

struct req {
    CURL *easy;
    struct batch *b;
    struct kbuf resp;
    struct curl_slist *hdrs;
    int64_t sent_ns;
    char errbuf[CURL_ERROR_SIZE];
    int busy;
};

struct sender {
    struct sender_opts o;
    CURLM *multi;
    struct req *reqs;
    int inflight;
    char url[1024];
    char host[512];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct req *q = arg;
    if (q->resp.len + size * n > MAX_ANSWER)
        return 0;
    kbuf_append(&q->resp, p, size * n);
    return size * n;
}

/* Headers and signature for a Kinesis call with this body; NULL with err set when it cannot be signed. */
static struct curl_slist *signed_headers(struct sender *s, const char *target, const char *body, size_t len,
                                         struct kt_err *err)
{
    const struct creds *c = s->o.creds;
    char date[17], hash[65], auth[1024], line[4200];
    sigv4_amz_date(date, kt_now_ns() / KT_NS_PER_SEC);
    sigv4_sha256_hex(body, len, hash);
    struct sigv4_header h[5] = {
        {"content-type", "application/x-amz-json-1.1"},
        {"host", s->host},
        {"x-amz-date", date},
        {"x-amz-target", target},
        {"x-amz-security-token", c->token},
    };
    struct sigv4_request rq = {"POST", "/", "", h, c->token[0] ? 5 : 4, hash, date, c->region, "kinesis",
                               c->access_key, c->secret_key};
    if (sigv4_sign(&rq, auth, sizeof auth, NULL) != 0) {
        kt_err_set(err, "cannot sign the %s call: the Authorization header would be longer than %zu bytes", target,
                   sizeof auth);
        return NULL;
    }
    struct curl_slist *l = NULL;
    l = curl_slist_append(l, "Content-Type: application/x-amz-json-1.1");
    snprintf(line, sizeof line, "X-Amz-Target: %s", target);
    l = curl_slist_append(l, line);
    snprintf(line, sizeof line, "X-Amz-Date: %s", date);
    l = curl_slist_append(l, line);
    snprintf(line, sizeof line, "Authorization: %s", auth);
    l = curl_slist_append(l, line);
    if (c->token[0]) {
        snprintf(line, sizeof line, "X-Amz-Security-Token: %s", c->token);
        l = curl_slist_append(l, line);
    }
    l = curl_slist_append(l, "Expect:");
    return l;
}

static CURL *easy_new(struct sender *s, struct req *q)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, s->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->o.timeout_ms < 10000 ? s->o.timeout_ms : 10000L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_PRIVATE, q);
    if (s->o.ca_bundle)
        curl_easy_setopt(h, CURLOPT_CAINFO, s->o.ca_bundle);
    return h;
}

struct sender *sender_new(const struct sender_opts *o, struct kt_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        kt_err_set(err, "cannot initialise libcurl");
        return NULL;
    }
    struct sender *s = xcalloc(1, sizeof *s);
    s->o = *o;
    snprintf(s->url, sizeof s->url, "%s", o->endpoint);
    /* The Host header curl sends, which is signed: host[:port] as in the URL. */
    const char *p = strstr(s->url, "://");
    p = p ? p + 3 : s->url;
    size_t n = strcspn(p, "/");
    snprintf(s->host, sizeof s->host, "%.*s", (int)n, p);
    s->multi = curl_multi_init();
    if (!s->multi) {
        kt_err_set(err, "cannot initialise libcurl's multi interface");
        free(s);
        curl_global_cleanup();
        return NULL;
    }
    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->concurrency);
    s->reqs = xcalloc((size_t)o->concurrency, sizeof *s->reqs);
    return s;
}

void sender_free(struct sender *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->o.concurrency; i++) {
        struct req *q = &s->reqs[i];
        if (q->busy) {
            curl_multi_remove_handle(s->multi, q->easy);
            batch_free(q->b);
        }
        if (q->easy)
            curl_easy_cleanup(q->easy);
        curl_slist_free_all(q->hdrs);
        kbuf_free(&q->resp);
    }
    free(s->reqs);
    curl_multi_cleanup(s->multi);
    free(s);
    curl_global_cleanup();
}

const char *sender_url(const struct sender *s)
{
    return s->url;
}

int sender_inflight(const struct sender *s)
{
    return s->inflight;
}

int sender_can_send(const struct sender *s)
{
    return s->inflight < s->o.concurrency;
}

int sender_put(struct sender *s, struct batch *bt, int64_t now, struct kt_err *err)
{
    struct req *q = NULL;
    for (int i = 0; i < s->o.concurrency && !q; i++)
        if (!s->reqs[i].busy)
            q = &s->reqs[i];
    if (!q) {
        kt_err_set(err, "no request slot is free (%d calls in flight)", s->inflight);
        return -1;
    }
    if (!q->easy && !(q->easy = easy_new(s, q))) {
        kt_err_set(err, "cannot create a libcurl handle");
        return -1;
    }
    q->hdrs = signed_headers(s, "Kinesis_20131202.PutRecords", bt->body.p, bt->body.len, err);
    if (!q->hdrs)
        return -1;
    kbuf_reset(&q->resp);
    q->errbuf[0] = '\0';
    curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->hdrs);
    curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, bt->body.p);
    curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bt->body.len);
    CURLMcode mc = curl_multi_add_handle(s->multi, q->easy);
    if (mc != CURLM_OK) {
        kt_err_set(err, "cannot start a call: %s", curl_multi_strerror(mc));
        curl_slist_free_all(q->hdrs);
        q->hdrs = NULL;
        return -1;
    }
    q->busy = 1;
    q->b = bt;
    q->sent_ns = now;
    s->inflight++;
    return 0;
}

void sender_perform(struct sender *s)
{
    int running;
    curl_multi_perform(s->multi, &running);
}

int sender_collect(struct sender *s, void (*done)(void *ctx, const struct sent *r), void *ctx)
{
    CURLMsg *m;
    int left, n = 0;
    while ((m = curl_multi_info_read(s->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct req *q;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        CURLcode cc = m->data.result;
        curl_multi_remove_handle(s->multi, q->easy);
        struct sent r = {q->b, NULL, 0, 0, q->resp.p, q->resp.len, q->sent_ns};
        if (cc != CURLE_OK) {
            r.transport_error = curl_easy_strerror(cc);
            r.timed_out = cc == CURLE_OPERATION_TIMEDOUT;
        }
        else
            curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &r.status);
        curl_slist_free_all(q->hdrs);
        q->hdrs = NULL;
        q->b = NULL;
        q->busy = 0;
        s->inflight--;
        done(ctx, &r);
        n++;
    }
    return n;
}

/*
 * Nanosecond timeouts (pselect), as a schedule needs; poll()'s milliseconds
 * would hold answers back for up to one.
 */
void sender_wait(struct sender *s, int64_t ns)
{
    fd_set r, w, x;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    int maxfd = -1;
    struct timespec ts = {ns / KT_NS_PER_SEC, ns % KT_NS_PER_SEC};
    if (curl_multi_fdset(s->multi, &r, &w, &x, &maxfd) != CURLM_OK || maxfd >= FD_SETSIZE) {
        int numfds;
        curl_multi_poll(s->multi, NULL, 0, (int)((ns + KT_NS_PER_MS - 1) / KT_NS_PER_MS), &numfds);
        return;
    }
    if (maxfd < 0)
        nanosleep(&ts, NULL);
    else
        pselect(maxfd + 1, &r, &w, &x, &ts, NULL);
}

int sender_call(struct sender *s, const char *op, const char *body, long *status, struct kbuf *resp,
                struct kt_err *err)
{
    struct req q;
    memset(&q, 0, sizeof q);
    CURL *h = easy_new(s, &q);
    if (!h) {
        kt_err_set(err, "cannot create a libcurl handle");
        return -1;
    }
    char target[80];
    snprintf(target, sizeof target, "Kinesis_20131202.%s", op);
    q.hdrs = signed_headers(s, target, body, strlen(body), err);
    if (!q.hdrs) {
        curl_easy_cleanup(h);
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, q.hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    CURLcode cc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    kbuf_free(resp);
    *resp = q.resp;
    if (cc != CURLE_OK)
        kt_err_set(err, "cannot reach %s: %s", s->url, q.errbuf[0] ? q.errbuf : curl_easy_strerror(cc));
    curl_slist_free_all(q.hdrs);
    curl_easy_cleanup(h);
    return cc == CURLE_OK ? 0 : -1;
}
