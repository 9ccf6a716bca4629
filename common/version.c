/* version.c — the version string; the build writes KT_VERSION into its own version.h. */
#include "kt_version_stamp.h"
#include "version.h"

const char *kt_version(void)
{
    return KT_VERSION;
}
