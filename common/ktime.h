/*
 * ktime.h — clocks and timestamp text.
 *
 * Wall-clock times are integer nanoseconds since the Unix epoch (UTC);
 * schedules use the monotonic clock. RFC 3339 is the text form everywhere
 * (snapshots, CSV), with up to nine fractional digits.
 */
#ifndef KT_KTIME_H
#define KT_KTIME_H

#include <stddef.h>
#include <stdint.h>

#define KT_NS_PER_SEC 1000000000LL
#define KT_NS_PER_MS 1000000LL

int64_t kt_now_ns(void);
int64_t kt_now_ms(void);
int64_t kt_mono_ns(void);

/* Longest RFC 3339 text kt_fmt_rfc3339 writes, with its NUL. */
#define KT_RFC3339_MAX 40

/*
 * Writes `ns` as RFC 3339 UTC ("2026-11-24T22:02:46.123456789Z") with
 * `digits` fractional digits (0, 3, 6 or 9). Returns the length written.
 */
size_t kt_fmt_rfc3339(char *out, int64_t ns, int digits);

/*
 * Parses RFC 3339 / ISO 8601 date-time text: "YYYY-MM-DDTHH:MM:SS" with an
 * optional fraction (up to 9 digits used) and "Z" or "+hh:mm"/"+hhmm"
 * (or "-"); a space or "t" may stand for the "T", and a missing offset means UTC. Returns 0 and
 * sets *ns, or -1 with the offset of the first bad character in *bad_at.
 */
int kt_parse_rfc3339(const char *s, size_t len, int64_t *ns, size_t *bad_at);
/* 1 when a time kt_parse_rfc3339 accepted says its offset (Z, +01:00, -0500); without one it is read as UTC. */
int kt_rfc3339_has_offset(const char *s, size_t len);

/* "Tue, 24 Nov 2026 22:02:46 GMT" (RFC 9110 IMF-fixdate); out needs 30 bytes. */
size_t kt_fmt_http_date(char *out, int64_t sec);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t kt_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
