/* proxy_cmd.h — `kintape proxy` (see proxy_cmd.c). */
#ifndef KT_PROXY_CMD_H
#define KT_PROXY_CMD_H

/* Runs `kintape proxy ARGS`; returns the exit status. */
int proxy_main(int argc, char **argv);

#endif
