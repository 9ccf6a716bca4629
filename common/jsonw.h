/*
 * jsonw.h — writing JSON text into a kbuf.
 *
 * Responses on hot paths (PutRecords, GetRecords) are written directly as
 * text rather than built as jansson trees; these helpers do the escaping.
 */
#ifndef KT_JSONW_H
#define KT_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Appends s[0..n) as a quoted JSON string. Bytes >= 0x80 pass through as is. */
void jw_str(struct kbuf *b, const char *s, size_t n);

/*
 * Appends s[0..n) as a quoted JSON string if it is UTF-8 text without NUL
 * bytes (one pass for the check and the escaping); returns -1 and leaves b
 * as it was otherwise.
 */
int jw_str_utf8(struct kbuf *b, const char *s, size_t n);

static inline void jw_cstr(struct kbuf *b, const char *s)
{
    jw_str(b, s, strlen(s));
}

/* Appends "key": (the key is trusted text that needs no escaping). */
static inline void jw_key(struct kbuf *b, const char *key)
{
    kbuf_putc(b, '"');
    kbuf_puts(b, key);
    kbuf_puts(b, "\":");
}

/* Appends a base64 JSON string of n bytes of data. */
void jw_base64(struct kbuf *b, const uint8_t *data, size_t n);

/* Appends epoch milliseconds as a JSON number of seconds with 3 decimals. */
void jw_epoch_ms(struct kbuf *b, int64_t ms);

#endif
