/* replay_cmd.h — `kintape replay` (see replay_cmd.c). */
#ifndef KT_REPLAY_CMD_H
#define KT_REPLAY_CMD_H

/* Runs `kintape replay ARGS`; returns the exit status. */
int replay_main(int argc, char **argv);

#endif
