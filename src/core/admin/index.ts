// The admin services: every operation the admin API, the UI and the CLI offer, as plain functions
// over an AdminContext (connections and configuration, never an HTTP request). Inputs are validated
// with the schemas of schemas.ts (the API's OpenAPI document is generated from the same objects);
// failures are AdminErrors with a stable code and per-field problems a form can show.
//
//   rules.ts      list / get (ETag) / create / update / delete, If-Match, RE2 validation
//   hosts.ts      development hosts and device teams
//   changes.ts    row + config_audit_log in one transaction, then "live when it answers" (generation.ts)
//   audit.ts      event audit trail (offset and cursor paging, bounded totals, export), config history
//   config.ts     dynamic configuration (mutt:config:*), validated, announced, audited
//   dlq.ts        dead-letter queues: depths, browse, replay, purge (audited)
//   status.ts     fleet status from Redis (every pod's processing list and heartbeat)
//   metrics.ts    the dashboard rates from the mutt:metrics:* counters
//   tester.ts     dry run of a draft rule against recent events
export * from './audit.ts';
export * from './changes.ts';
export * from './config.ts';
export * from './context.ts';
export * from './dlq.ts';
export * from './errors.ts';
export * from './generation.ts';
export * from './hosts.ts';
export * from './metrics.ts';
export * from './rules.ts';
export * as schemas from './schemas.ts';
export * from './status.ts';
export * from './tester.ts';
