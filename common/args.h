/*
 * args.h — numbers and lists from the command line and the environment.
 *
 * Every front end reads its flags' numbers through these, so a value is
 * checked the same way everywhere (the whole text must be the number, and
 * within its bounds) and refused with the same kind of sentence:
 *
 *   --port takes a port number from 0 to 65535 (got '99999')
 */
#ifndef KT_ARGS_H
#define KT_ARGS_H

#include "errbuf.h"

/* A decimal integer in [min, max]: returns 0, or -1 when s is anything else. */
int kt_parse_int(const char *s, long long min, long long max, long long *out);
/* A decimal number (fraction and exponent allowed) in [min, max]: 0, or -1. */
int kt_parse_num(const char *s, double min, double max, double *out);

/*
 * kt_parse_int / kt_parse_num for the value `s` of `flag` (a flag or an
 * environment variable name); on failure err says
 * "FLAG takes WHAT from MIN to MAX (got 'S')" and -1 is returned.
 */
int kt_arg_int(const char *flag, const char *s, const char *what, long long min, long long max, long long *out,
               struct kt_err *err);
int kt_arg_num(const char *flag, const char *s, const char *what, double min, double max, double *out,
               struct kt_err *err);

/* 1 when `item` is one of the comma-separated entries of `list` (a NULL list holds everything). */
int kt_list_has(const char *list, const char *item);

#endif
