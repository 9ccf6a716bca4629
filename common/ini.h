/*
 * ini.h — reading AWS-style INI files (~/.aws/credentials, ~/.aws/config):
 * "[section]" lines, "key = value" lines, '#' and ';' comments.
 */
#ifndef KT_INI_H
#define KT_INI_H

/*
 * Calls fn for every key of the file, in order, with its section ("" before
 * the first) and its line number; fn returns 0 to go on, anything else to
 * stop (ini_each then returns that). Returns 0 at the end, or -1 when the
 * file cannot be opened (errno set).
 */
int ini_each(const char *path, int (*fn)(void *arg, const char *section, const char *key, const char *value,
                                         int line),
             void *arg);

#endif
