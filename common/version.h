/* version.h — the version string stamped into the build (git describe). */
#ifndef KT_VERSION_API_H
#define KT_VERSION_API_H

const char *kt_version(void);

#endif
