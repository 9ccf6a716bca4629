/*
 * emulator_cmd.h — `kintape emulator`: command line and environment of the
 * Kinesis Data Streams emulator.
 */
#ifndef KT_EMULATOR_CMD_H
#define KT_EMULATOR_CMD_H

#include "emu.h"
#include "errbuf.h"

/* Runs `kintape emulator ARGS`; returns the exit status. */
int emulator_main(int argc, char **argv);

/*
 * Reads the KINESIS_* environment into cfg. Returns 0, or -1 with a message
 * naming the variable in err.
 */
int emulator_config_from_env(struct emu_config *cfg, struct kt_err *err);

#endif
