/*
 * proxy_conn.c — a client connection of the proxy: made when accepted,
 * freed with what its protocol holds (see proxy_int.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "proxy_int.h"

static void addr_text(const struct sockaddr *sa, char *ip, size_t n, uint16_t *port)
{
    ip[0] = '\0';
    *port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)n);
        *port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in->sin6_addr, ip, (socklen_t)n);
        *port = ntohs(in->sin6_port);
    }
}

struct pconn *pconn_new(struct proxy *p, int fd, const struct sockaddr *sa, int salen)
{
    (void)salen;
    struct pconn *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->id = ++p->next_conn;
    addr_text(sa, c->ip, sizeof c->ip, &c->port);
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
        addr_text((struct sockaddr *)&local, c->local_ip, sizeof c->local_ip, &c->local_port);
    c->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    p->n.connections++;
    return c;
}

void pconn_free(struct pconn *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (c->proto_free)
        c->proto_free(c, why);
    if (c->linger)
        event_free(c->linger);
    if (c->peer)
        bufferevent_free(c->peer);
    if (c->bev)
        bufferevent_free(c->bev);
    kbuf_free(&c->hname);
    kbuf_free(&c->hvalue);
    kbuf_free(&c->target_buf);
    struct proxy *p = c->p;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

static size_t queued(struct bufferevent *b)
{
    size_t n = 0;
    for (; b; b = bufferevent_get_underlying(b))
        n += evbuffer_get_length(bufferevent_get_output(b));
    return n;
}

static void linger_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pconn_free_drained(arg);
}

void pconn_free_drained(struct pconn *c)
{
    if (queued(c->bev) == 0 || c->p->stopping) {
        pconn_free(c, NULL);
        return;
    }
    if (!c->linger)
        c->linger = evtimer_new(c->p->base, linger_cb, c);
    struct timeval t = {0, 5000};
    evtimer_add(c->linger, &t);
}
