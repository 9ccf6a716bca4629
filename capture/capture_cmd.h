/* capture_cmd.h — `kintape capture` (see capture_cmd.c). */
#ifndef KT_CAPTURE_CMD_H
#define KT_CAPTURE_CMD_H

/* Runs `kintape capture ARGS`; returns the exit status. */
int capture_main(int argc, char **argv);

#endif
