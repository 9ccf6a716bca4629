/* snapshot_cmd.h — `kintape snapshot` (see snapshot_cmd.c). */
#ifndef KT_SNAPSHOT_CMD_H
#define KT_SNAPSHOT_CMD_H

/* Runs `kintape snapshot ARGS`; returns the exit status. */
int snapshot_main(int argc, char **argv);

#endif
