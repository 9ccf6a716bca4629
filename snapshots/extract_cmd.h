/* extract_cmd.h — `kintape extract` (see extract_cmd.c). */
#ifndef KT_EXTRACT_CMD_H
#define KT_EXTRACT_CMD_H

/* Runs `kintape extract ARGS`; returns the exit status. */
int extract_main(int argc, char **argv);

#endif
