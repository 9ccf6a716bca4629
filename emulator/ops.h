/*
 * ops.h — the Kinesis operations the emulator implements. Each reads its
 * call's input and writes its answer (see opcall.h); the dispatcher (api.c)
 * has checked the input against the operation's shape and holds the store
 * lock the operation's table entry asks for.
 *
 * Each returns 0 with its answer written, or -1 after op_fail.
 */
#ifndef KT_OPS_H
#define KT_OPS_H

#include "opcall.h"

/* ops_streams.c */
int op_create_stream(struct op_call *c);
int op_delete_stream(struct op_call *c);
int op_describe_stream(struct op_call *c);
int op_describe_stream_summary(struct op_call *c);
int op_list_streams(struct op_call *c);
int op_list_shards(struct op_call *c);
int op_increase_retention(struct op_call *c);
int op_decrease_retention(struct op_call *c);
int op_describe_limits(struct op_call *c);

/* ops_records.c */
int op_put_record(struct op_call *c);
int op_put_records(struct op_call *c);
int op_get_shard_iterator(struct op_call *c);
int op_get_records(struct op_call *c);

/* ops_shards.c */
int op_split_shard(struct op_call *c);
int op_merge_shards(struct op_call *c);
int op_update_shard_count(struct op_call *c);

/* ops_consumers.c */
int op_register_consumer(struct op_call *c);
int op_deregister_consumer(struct op_call *c);
int op_describe_consumer(struct op_call *c);
int op_list_consumers(struct op_call *c);
int op_subscribe_to_shard(struct op_call *c);

/* ops_resources.c */
int op_add_tags(struct op_call *c);
int op_remove_tags(struct op_call *c);
int op_list_tags(struct op_call *c);
int op_tag_resource(struct op_call *c);
int op_untag_resource(struct op_call *c);
int op_list_tags_for_resource(struct op_call *c);
int op_put_resource_policy(struct op_call *c);
int op_get_resource_policy(struct op_call *c);
int op_delete_resource_policy(struct op_call *c);
/*
 * Checks tag keys (and values, is_map) as AWS does; `removing` picks RemoveTagsFromStream's
 * wording. 1, or 0 after the error.
 */
int op_tags_valid(struct op_call *c, const char *stream, int removing, const struct in_val *list, int is_map);
/* Applies a Tags map to a resource's tags, within its 50-tag limit; -1 after the error. */
int op_apply_tags(struct op_call *c, struct tagset *set, const char *name, const struct in_val *tags);

/* ops_settings.c */
int op_start_encryption(struct op_call *c);
int op_stop_encryption(struct op_call *c);
int op_enable_monitoring(struct op_call *c);
int op_disable_monitoring(struct op_call *c);
int op_update_stream_mode(struct op_call *c);
int op_update_max_record_size(struct op_call *c);
int op_update_warm_throughput(struct op_call *c);
int op_describe_account_settings(struct op_call *c);
int op_update_account_settings(struct op_call *c);
/* A list of shard-level metric names, bit i for metric i, in AWS's order. */
void op_write_metrics(struct rw *w, unsigned metrics);

/* CreateStream's work, shared with KINESIS_INITIALIZE_STREAMS (write lock held). */
int op_create_stream_named(struct op_call *c, const char *name, long long shards, int on_demand);

#endif
