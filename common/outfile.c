/* outfile.c — buffered, direct-I/O output files (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
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
    char *buf;                 /* OUT_BUF bytes, OUT_ALIGN-aligned */
    size_t used;
    uint64_t bytes;            /* accepted so far */
};

static int write_all(struct outfile *f, const char *p, size_t n, struct kt_err *err)
{
    while (n) {
        ssize_t k = write(f->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            kt_err_set(err, "%s: write failed: %s", f->path, k < 0 ? strerror(errno) : "no progress");
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Writes the whole blocks of the buffer (everything when `all`), keeping the rest. */
static int drain(struct outfile *f, int all, struct kt_err *err)
{
    size_t n = all || !f->direct ? f->used : f->used / OUT_ALIGN * OUT_ALIGN;
    if (!n)
        return 0;
    if (f->direct && n % OUT_ALIGN) {
        /* A partial block cannot go directly. */
        int fl = fcntl(f->fd, F_GETFL);
        fcntl(f->fd, F_SETFL, fl & ~O_DIRECT);
        f->direct = 0;
    }
    if (write_all(f, f->buf, n, err) != 0)
        return -1;
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
    if (posix_memalign((void **)&f->buf, OUT_ALIGN, OUT_BUF) != 0) {
        kt_err_set(err, "out of memory for the output buffer of %s", path);
        if (!f->is_stdout)
            close(f->fd);
        free(f->path);
        free(f);
        return NULL;
    }
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
        if (f->used == OUT_BUF && drain(f, 0, err) != 0)
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
    if (!f->is_stdout && close(f->fd) != 0 && rc == 0) {
        kt_err_set(err, "%s: close failed: %s", f->path, strerror(errno));
        rc = -1;
    }
    free(f->buf);
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
