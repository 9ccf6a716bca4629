/* emu.c — the emulator's configuration defaults (see emu.h). */
#include "emu.h"

#include <stdio.h>
#include <string.h>

#include "iterator.h"

void emu_config_defaults(struct emu_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 4566;
    snprintf(cfg->account, sizeof cfg->account, "000000000000");
    snprintf(cfg->default_region, sizeof cfg->default_region, "us-east-1");
    cfg->shard_limit = 100;
    cfg->on_demand_stream_limit = 50;
    cfg->on_demand_shards = 4;
    cfg->cors_origins = "*";
    cfg->iterator_ttl_ms = ITER_TTL_MS;
    cfg->subscription_ms = 300000;
    cfg->max_body = (size_t)32 << 20;
    cfg->workers = 0;
    cfg->idle_timeout_s = 300;
    cfg->request_timeout_s = 10;
    cfg->max_connections = 10000;
}
