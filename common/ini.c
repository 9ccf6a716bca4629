/* ini.c — AWS-style INI files, entry by entry (see ini.h). */
#include "ini.h"

#include <stdio.h>
#include <string.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int ini_each(const char *path, int (*fn)(void *arg, const char *section, const char *key, const char *value,
                                         int line),
             void *arg)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[8192], section[256] = "";
    int rc = 0;
    for (int no = 1; rc == 0 && fgets(line, sizeof line, f); no++) {
        line[strcspn(line, "\r\n")] = '\0';
        char *s = trim(line);
        if (*s == '#' || *s == ';' || !*s)
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e) {
                *e = '\0';
                snprintf(section, sizeof section, "%s", trim(s + 1));
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        *eq = '\0';
        rc = fn(arg, section, trim(s), trim(eq + 1), no);
    }
    fclose(f);
    return rc;
}
