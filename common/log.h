/*
 * log.h — one-line diagnostics on stderr for the command-line front ends and
 * long-running servers. Library modules report errors to their caller through
 * an error buffer instead (see errbuf.h) and log only what no caller can act on.
 */
#ifndef KT_LOG_H
#define KT_LOG_H

enum kt_log_level { KT_LOG_DEBUG, KT_LOG_INFO, KT_LOG_WARN, KT_LOG_ERROR };

/* Sets the prefix ("kintape emulator") and the lowest level printed. */
void kt_log_setup(const char *prefix, enum kt_log_level min);
void kt_log(enum kt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kt_log_enabled(enum kt_log_level level);

#endif
