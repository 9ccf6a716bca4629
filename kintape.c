/*
 * kintape.c — the `kintape` command: dispatches to the front end (`*_cmd.c`) of
 * each part. It sits above every part; nothing below calls up into it.
 */
#include <stdio.h>
#include <string.h>

#include "capture/capture_cmd.h"
#include "capture/proxy_cmd.h"
#include "emulator/emulator_cmd.h"
#include "replay/replay_cmd.h"
#include "snapshots/extract_cmd.h"
#include "snapshots/snapshot_cmd.h"
#include "version.h"

static const char usage[] =
    "usage: kintape <command> [options]\n"
    "\n"
    "Capture Amazon Kinesis Data Streams traffic and replay it.\n"
    "\n"
    "commands:\n"
    "  emulator   run the Kinesis Data Streams API emulator\n"
    "  capture    record Kinesis HTTP exchanges into a snapshot\n"
    "  proxy      record Kinesis calls while forwarding them (TLS, HTTP/2) into a snapshot\n"
    "  snapshot   inspect a snapshot: ls, show, stats\n"
    "  extract    turn a snapshot into CSV, one record a row\n"
    "  replay     send a CSV of records as PutRecords calls\n"
    "\n"
    "  kintape --version       print the version\n"
    "  kintape <command> --help\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("kintape %s\n", kt_version());
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "emulator") == 0)
        return emulator_main(argc - 1, argv + 1);
    if (strcmp(cmd, "capture") == 0)
        return capture_main(argc - 1, argv + 1);
    if (strcmp(cmd, "proxy") == 0)
        return proxy_main(argc - 1, argv + 1);
    if (strcmp(cmd, "snapshot") == 0)
        return snapshot_main(argc - 1, argv + 1);
    if (strcmp(cmd, "extract") == 0)
        return extract_main(argc - 1, argv + 1);
    if (strcmp(cmd, "replay") == 0)
        return replay_main(argc - 1, argv + 1);
    fprintf(stderr, "kintape: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
