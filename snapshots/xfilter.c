/* xfilter.c — --filter expressions and --path selectors (grammar in xfilter.h). */
#include "xfilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktime.h"
#include "mem.h"

enum field { F_OP, F_STREAM, F_STATUS, F_TS, F_METHOD, F_CONN, F_INCOMPLETE };
enum cmpop { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_CONTAINS };
enum vkind { V_TEXT, V_NUM, V_BOOL, V_NULL };
enum nkind { N_AND, N_OR, N_NOT, N_CMP };

struct node {
    enum nkind kind;
    struct node *a, *b;
    enum field field;
    enum cmpop op;
    enum vkind vk;
    char *text;
    long long num;
};

struct xfilter {
    struct node *root;
};

struct parser {
    const char *s;
    size_t pos;
    struct kt_err *err;
    int failed;
};

static void fail_at(struct parser *p, size_t at, const char *what)
{
    if (p->failed)
        return;
    p->failed = 1;
    char caret[300];
    size_t n = at < sizeof caret - 2 ? at : sizeof caret - 2;
    memset(caret, ' ', n);
    caret[n] = '^';
    caret[n + 1] = '\0';
    kt_err_set(p->err, "%s at character %zu:\n  %s\n  %s", what, at + 1, p->s, caret);
}

static void skip_ws(struct parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

static int accept(struct parser *p, const char *tok)
{
    skip_ws(p);
    size_t n = strlen(tok);
    if (strncmp(p->s + p->pos, tok, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static void node_free(struct node *n)
{
    if (!n)
        return;
    node_free(n->a);
    node_free(n->b);
    free(n->text);
    free(n);
}

static int is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static struct node *parse_expr(struct parser *p);

static struct node *parse_compare(struct parser *p)
{
    static const char *const fields[] = {"op", "stream", "status", "ts", "method", "conn", "incomplete"};
    skip_ws(p);
    size_t start = p->pos;
    while (is_ident(p->s[p->pos]))
        p->pos++;
    size_t len = p->pos - start;
    int field = -1;
    for (int i = 0; i < 7; i++)
        if (strlen(fields[i]) == len && strncmp(p->s + start, fields[i], len) == 0)
            field = i;
    if (field < 0) {
        fail_at(p, start, len ? "unknown field (op, stream, status, ts, method, conn, incomplete)"
                              : "expected a field name, '!' or '('");
        return NULL;
    }
    skip_ws(p);
    size_t op_at = p->pos;
    enum cmpop op;
    if (accept(p, "=="))
        op = C_EQ;
    else if (accept(p, "!="))
        op = C_NE;
    else if (accept(p, "<="))
        op = C_LE;
    else if (accept(p, ">="))
        op = C_GE;
    else if (accept(p, "<"))
        op = C_LT;
    else if (accept(p, ">"))
        op = C_GT;
    else if (accept(p, "contains"))
        op = C_CONTAINS;
    else {
        fail_at(p, op_at, "expected a comparison operator (== != < <= > >= contains)");
        return NULL;
    }
    skip_ws(p);
    size_t vat = p->pos;
    struct node *n = xcalloc(1, sizeof *n);
    n->kind = N_CMP;
    n->field = (enum field)field;
    n->op = op;
    const char *s = p->s;
    if (s[p->pos] == '"') {
        struct kbuf t = KBUF_INIT;
        p->pos++;
        while (s[p->pos] && s[p->pos] != '"') {
            if (s[p->pos] == '\\' && s[p->pos + 1])
                p->pos++;
            kbuf_putc(&t, s[p->pos++]);
        }
        if (s[p->pos] != '"') {
            kbuf_free(&t);
            fail_at(p, vat, "unterminated string");
            node_free(n);
            return NULL;
        }
        p->pos++;
        n->vk = V_TEXT;
        n->text = kbuf_steal(&t, NULL);
    } else if ((s[p->pos] >= '0' && s[p->pos] <= '9') || s[p->pos] == '-') {
        char *end;
        n->num = strtoll(s + p->pos, &end, 10);
        p->pos = (size_t)(end - s);
        n->vk = V_NUM;
    } else if (accept(p, "true")) {
        n->vk = V_BOOL;
        n->num = 1;
    } else if (accept(p, "false")) {
        n->vk = V_BOOL;
        n->num = 0;
    } else if (accept(p, "null")) {
        n->vk = V_NULL;
    } else {
        fail_at(p, vat, "expected a value: \"text\", a number, true, false or null");
        node_free(n);
        return NULL;
    }
    /* The value must suit the field. */
    const char *bad = NULL;
    switch (n->field) {
    case F_OP:
    case F_METHOD:
        if (n->vk != V_TEXT)
            bad = "this field is text: compare it with \"...\"";
        break;
    case F_STREAM:
        if (n->vk != V_TEXT && n->vk != V_NULL)
            bad = "stream is text (or null)";
        break;
    case F_STATUS:
        if (n->vk != V_NUM && n->vk != V_NULL)
            bad = "status is a number (or null)";
        break;
    case F_CONN:
        if (n->vk != V_NUM)
            bad = "conn is a number";
        break;
    case F_INCOMPLETE:
        if (n->vk != V_BOOL)
            bad = "incomplete is true or false";
        break;
    case F_TS: {
        int64_t ns;
        if (n->vk != V_TEXT || kt_parse_rfc3339(n->text, strlen(n->text), &ns, NULL) != 0)
            bad = "ts compares with an RFC 3339 time such as \"2026-11-21T10:00:00Z\"";
        else
            n->num = ns;
        break;
    }
    }
    if (!bad && op == C_CONTAINS && n->vk != V_TEXT)
        bad = "contains needs a text value";
    if (bad) {
        fail_at(p, vat, bad);
        node_free(n);
        return NULL;
    }
    return n;
}

static struct node *parse_unary(struct parser *p)
{
    skip_ws(p);
    if (accept(p, "!")) {
        struct node *a = parse_unary(p);
        if (!a)
            return NULL;
        struct node *n = xcalloc(1, sizeof *n);
        n->kind = N_NOT;
        n->a = a;
        return n;
    }
    if (accept(p, "(")) {
        struct node *n = parse_expr(p);
        if (!n)
            return NULL;
        skip_ws(p);
        if (!accept(p, ")")) {
            fail_at(p, p->pos, "expected ')'");
            node_free(n);
            return NULL;
        }
        return n;
    }
    return parse_compare(p);
}

static struct node *parse_binary(struct parser *p, int is_or)
{
    struct node *left = is_or ? parse_binary(p, 0) : parse_unary(p);
    while (left) {
        if (!accept(p, is_or ? "||" : "&&"))
            break;
        struct node *right = is_or ? parse_binary(p, 0) : parse_unary(p);
        if (!right) {
            node_free(left);
            return NULL;
        }
        struct node *n = xcalloc(1, sizeof *n);
        n->kind = is_or ? N_OR : N_AND;
        n->a = left;
        n->b = right;
        left = n;
    }
    return left;
}

static struct node *parse_expr(struct parser *p)
{
    return parse_binary(p, 1);
}

struct xfilter *xfilter_compile(const char *text, struct kt_err *err)
{
    struct parser p = {text, 0, err, 0};
    struct node *root = parse_expr(&p);
    if (root) {
        skip_ws(&p);
        if (text[p.pos]) {
            fail_at(&p, p.pos, "unexpected text (expected && or ||)");
            node_free(root);
            root = NULL;
        }
    }
    if (!root) {
        if (!p.failed)
            fail_at(&p, p.pos, "invalid expression");
        return NULL;
    }
    struct xfilter *f = xcalloc(1, sizeof *f);
    f->root = root;
    return f;
}

void xfilter_free(struct xfilter *f)
{
    if (!f)
        return;
    node_free(f->root);
    free(f);
}

static int cmp_num(enum cmpop op, long long a, long long b)
{
    switch (op) {
    case C_EQ: return a == b;
    case C_NE: return a != b;
    case C_LT: return a < b;
    case C_LE: return a <= b;
    case C_GT: return a > b;
    case C_GE: return a >= b;
    default: return 0;
    }
}

static int cmp_text(enum cmpop op, const char *a, const char *b)
{
    if (op == C_CONTAINS)
        return a && strstr(a, b) != NULL;
    if (!a)
        return op == C_NE;
    return cmp_num(op, strcmp(a, b), 0);
}

static int eval(const struct node *n, const struct xfields *x)
{
    switch (n->kind) {
    case N_AND: return eval(n->a, x) && eval(n->b, x);
    case N_OR: return eval(n->a, x) || eval(n->b, x);
    case N_NOT: return !eval(n->a, x);
    case N_CMP: break;
    }
    switch (n->field) {
    case F_OP: return cmp_text(n->op, x->op, n->text);
    case F_METHOD: return cmp_text(n->op, x->method, n->text);
    case F_STREAM:
        if (n->vk == V_NULL)
            return n->op == C_EQ ? x->stream == NULL : n->op == C_NE ? x->stream != NULL : 0;
        return cmp_text(n->op, x->stream, n->text);
    case F_STATUS:
        if (n->vk == V_NULL)
            return n->op == C_EQ ? x->status == 0 : n->op == C_NE ? x->status != 0 : 0;
        return x->status != 0 && cmp_num(n->op, x->status, n->num);
    case F_CONN: return cmp_num(n->op, x->conn, n->num);
    case F_TS: return cmp_num(n->op, x->ts_ns, n->num);
    case F_INCOMPLETE: return cmp_num(n->op, x->incomplete, n->num);
    }
    return 0;
}

int xfilter_match(const struct xfilter *f, const struct xfields *x)
{
    return eval(f->root, x);
}

/* ------------------------------------------------------------------ paths */

struct step {
    char *key;                 /* member name, or NULL for an index */
    long index;
};

struct xpath {
    char *text;
    struct step *steps;
    size_t n;
};

struct xpath *xpath_compile(const char *text, struct kt_err *err)
{
    struct parser p = {text, 0, err, 0};
    struct xpath *x = xcalloc(1, sizeof *x);
    x->text = xstrdup(text);
    const char *s = text;
    if (s[0] != '.') {
        fail_at(&p, 0, "a path starts with '.', as in .http.request.body");
        xpath_free(x);
        return NULL;
    }
    size_t cap = 0;
    while (s[p.pos]) {
        if (x->n == cap) {
            cap = cap ? cap * 2 : 8;
            x->steps = xrealloc(x->steps, cap * sizeof *x->steps);
        }
        struct step *st = &x->steps[x->n];
        st->key = NULL;
        st->index = 0;
        if (s[p.pos] == '.') {
            p.pos++;
            size_t start = p.pos;
            while (s[p.pos] && s[p.pos] != '.' && s[p.pos] != '[')
                p.pos++;
            if (p.pos == start) {
                if (s[p.pos] == '\0' && start == 1)
                    break; /* "." alone: the whole exchange */
                fail_at(&p, start, "expected a member name after '.'");
                xpath_free(x);
                return NULL;
            }
            st->key = xstrndup(s + start, p.pos - start);
        } else if (s[p.pos] == '[') {
            size_t at = p.pos++;
            if (s[p.pos] == '"') {
                size_t start = ++p.pos;
                while (s[p.pos] && s[p.pos] != '"')
                    p.pos++;
                if (s[p.pos] != '"' || s[p.pos + 1] != ']') {
                    fail_at(&p, at, "expected [\"key\"]");
                    xpath_free(x);
                    return NULL;
                }
                st->key = xstrndup(s + start, p.pos - start);
                p.pos += 2;
            } else {
                char *end;
                st->index = strtol(s + p.pos, &end, 10);
                if (end == s + p.pos || *end != ']' || st->index < 0) {
                    fail_at(&p, p.pos, "expected an index: [0], [1], ...");
                    xpath_free(x);
                    return NULL;
                }
                p.pos = (size_t)(end - s) + 1;
            }
        } else {
            fail_at(&p, p.pos, "expected '.' or '['");
            xpath_free(x);
            return NULL;
        }
        x->n++;
    }
    return x;
}

void xpath_free(struct xpath *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        free(x->steps[i].key);
    free(x->steps);
    free(x->text);
    free(x);
}

const char *xpath_text(const struct xpath *x)
{
    return x->text;
}

const struct jnode *xpath_eval(const struct xpath *x, const struct jdoc *d, const struct jnode *n)
{
    for (size_t i = 0; i < x->n && n; i++) {
        const struct step *st = &x->steps[i];
        if (st->key) {
            n = jget(d, n, st->key);
        } else {
            if (n->type != J_ARR)
                return NULL;
            const struct jnode *e = jfirst(d, n);
            for (long k = 0; e && k < st->index; k++)
                e = jnext(d, n, e);
            n = e;
        }
    }
    return n;
}
