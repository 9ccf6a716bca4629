/*
 * outfile.c — buffered, direct-I/O output files (see outfile.h).
 *
 * Two aligned buffers: while a background thread writes a full one (a direct
 * write blocks until the device has the data), the caller fills the other,
 * so producing the output and writing it overlap.
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

#define OUT_BUF ((size_t)4 << 20)
#define OUT_ALIGN 4096

struct outfile {
    int fd;
    int direct;
    int is_stdout;
    int is_file;
    char *path;
    char *bufs[2];             /* OUT_BUF bytes each, OUT_ALIGN-aligned */
    char *buf;                 /* the one being filled */
    size_t used;
    uint64_t bytes;            /* accepted so far */
    /* the background writer: `pending` bytes of `wbuf` to write; guarded by mu */
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *wbuf;
    size_t pending;
    int quit;
    int werr;                  /* errno of a failed background write, or 0 */
};

/* Returns 0 or an errno. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    struct outfile *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->pending && !f->quit)
            pthread_cond_wait(&f->cv, &f->mu);
        if (!f->pending)
            break;
        char *p = f->wbuf;
        size_t n = f->pending;
        pthread_mutex_unlock(&f->mu);
        int e = write_all(f->fd, p, n);
        pthread_mutex_lock(&f->mu);
        if (e && !f->werr)
            f->werr = e;
        f->pending = 0;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* Waits until the background writer is idle; returns -1 (err set) if it failed. */
static int writer_idle(struct outfile *f, struct kt_err *err)
{
    pthread_mutex_lock(&f->mu);
    while (f->pending)
        pthread_cond_wait(&f->cv, &f->mu);
    int e = f->werr;
    pthread_mutex_unlock(&f->mu);
    if (e) {
        kt_err_set(err, "%s: write failed: %s", f->path, strerror(e));
        return -1;
    }
    return 0;
}

/* Hands the full buffer to the writer and goes on with the other one. */
static int hand_over(struct outfile *f, struct kt_err *err)
{
    if (writer_idle(f, err) != 0)
        return -1;
    pthread_mutex_lock(&f->mu);
    f->wbuf = f->buf;
    f->pending = f->used;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    f->buf = f->buf == f->bufs[0] ? f->bufs[1] : f->bufs[0];
    f->used = 0;
    return 0;
}

/* Writes, from this thread, the whole blocks of the buffer (everything when `all`), keeping the rest. */
static int drain(struct outfile *f, int all, struct kt_err *err)
{
    if (writer_idle(f, err) != 0)
        return -1;
    size_t n = all || !f->direct ? f->used : f->used / OUT_ALIGN * OUT_ALIGN;
    if (!n)
        return 0;
    if (f->direct && n % OUT_ALIGN) {
        /* A partial block cannot go directly. */
        int fl = fcntl(f->fd, F_GETFL);
        fcntl(f->fd, F_SETFL, fl & ~O_DIRECT);
        f->direct = 0;
    }
    int e = write_all(f->fd, f->buf, n);
    if (e) {
        kt_err_set(err, "%s: write failed: %s", f->path, strerror(e));
        return -1;
    }
    memmove(f->buf, f->buf + n, f->used - n);
    f->used -= n;
    return 0;
}

struct outfile *outfile_open(const char *path, struct kt_err *err)
{
    struct outfile *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    if (strcmp(path, "-") == 0) {
        f->fd = STDOUT_FILENO;
        f->is_stdout = 1;
    } else {
        f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
        f->direct = f->fd >= 0;
        if (f->fd < 0 && errno == EINVAL) /* tmpfs and others: no O_DIRECT */
            f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (f->fd < 0) {
            kt_err_set(err, "cannot create %s: %s", path, strerror(errno));
            free(f->path);
            free(f);
            return NULL;
        }
        struct stat sb;
        f->is_file = fstat(f->fd, &sb) == 0 && S_ISREG(sb.st_mode);
        if (!f->is_file && f->direct) {
            int fl = fcntl(f->fd, F_GETFL);
            fcntl(f->fd, F_SETFL, fl & ~O_DIRECT);
            f->direct = 0;
        }
    }
    if (posix_memalign((void **)&f->bufs[0], OUT_ALIGN, OUT_BUF) != 0 ||
        posix_memalign((void **)&f->bufs[1], OUT_ALIGN, OUT_BUF) != 0) {
        kt_err_set(err, "out of memory for the output buffers of %s", path);
        if (!f->is_stdout)
            close(f->fd);
        free(f->bufs[0]);
        free(f->path);
        free(f);
        return NULL;
    }
    f->buf = f->bufs[0];
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    pthread_create(&f->tid, NULL, writer_main, f);
    return f;
}

int outfile_write(struct outfile *f, const void *data, size_t n, struct kt_err *err)
{
    const char *p = data;
    f->bytes += n;
    while (n) {
        size_t k = OUT_BUF - f->used < n ? OUT_BUF - f->used : n;
        memcpy(f->buf + f->used, p, k);
        f->used += k;
        p += k;
        n -= k;
        if (f->used == OUT_BUF && hand_over(f, err) != 0)
            return -1;
    }
    return 0;
}

int outfile_flush(struct outfile *f, struct kt_err *err)
{
    return drain(f, 0, err);
}

int outfile_rewind(struct outfile *f, struct kt_err *err)
{
    if (writer_idle(f, err) != 0)
        return -1;
    f->used = 0;
    f->bytes = 0;
    if (!f->is_file || ftruncate(f->fd, 0) != 0 || lseek(f->fd, 0, SEEK_SET) != 0) {
        kt_err_set(err, "%s: cannot start the file again: %s", f->path, f->is_file ? strerror(errno) : "not a file");
        return -1;
    }
    return 0;
}

int outfile_close(struct outfile *f, struct kt_err *err)
{
    int rc = drain(f, 1, err);
    pthread_mutex_lock(&f->mu);
    f->quit = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->tid, NULL);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    if (!f->is_stdout && close(f->fd) != 0 && rc == 0) {
        kt_err_set(err, "%s: close failed: %s", f->path, strerror(errno));
        rc = -1;
    }
    free(f->bufs[0]);
    free(f->bufs[1]);
    free(f->path);
    free(f);
    return rc;
}

uint64_t outfile_bytes(const struct outfile *f)
{
    return f->bytes;
}

int outfile_is_file(const struct outfile *f)
{
    return f->is_file;
}
