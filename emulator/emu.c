/* emu.c — the emulator's configuration defaults (see emu.h). */
#include "emu.h"

#include <stdio.h>
#include <string.h>

#include "errbuf.h"
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

int emu_parse_accounts(struct emu_config *cfg, const char *spec, struct kt_err *err)
{
    cfg->naccounts = 0;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t kl = eq ? (size_t)(eq - p) : 0, al = eq ? n - kl - 1 : 0;
        if (!eq || kl == 0 || kl >= sizeof cfg->accounts[0].key || al != 12 || strspn(eq + 1, "0123456789") < 12) {
            kt_err_set(err, "--accounts: '%.*s' is not ACCESS_KEY=ACCOUNT (a 12-digit account id)", (int)n, p);
            return -1;
        }
        if (cfg->naccounts == (int)(sizeof cfg->accounts / sizeof cfg->accounts[0])) {
            kt_err_set(err, "--accounts: more than %zu keys", sizeof cfg->accounts / sizeof cfg->accounts[0]);
            return -1;
        }
        struct emu_account *a = &cfg->accounts[cfg->naccounts++];
        memcpy(a->key, p, kl);
        a->key[kl] = '\0';
        memcpy(a->account, eq + 1, 12);
        a->account[12] = '\0';
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

const char *emu_account_of(const struct emu_config *cfg, const char *access_key)
{
    for (int i = 0; access_key && i < cfg->naccounts; i++)
        if (strcmp(cfg->accounts[i].key, access_key) == 0)
            return cfg->accounts[i].account;
    return cfg->account;
}
