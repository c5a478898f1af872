// Response schemas, for the OpenAPI document (the services' TypeScript types are what the handlers
// return; these describe them to clients).
import { z } from 'zod';
import { schemas } from '../../core/admin/index.ts';

export const ErrorBody = z
  .object({
    error: z.string().meta({ example: 'priority: expected an integer' }),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    current_etag: z.string().optional(),
    correlation_id: z.string(),
  })
  .meta({ id: 'Error' });

export const Applied = z
  .object({
    applied: z.boolean().meta({
      description: "This node's alerters run the change (false: not within 2 s; it applies shortly).",
    }),
    generation: z.number().int(),
    alerters: z.number().int(),
    pending: z.array(z.string()).optional(),
    waited_ms: z.number().int(),
  })
  .meta({ id: 'Applied' });

export const RuleWrite = z
  .object({
    id: z.number().int(),
    message: z.string(),
    rule: schemas.Rule,
    applied: z.boolean(),
    apply: Applied,
  })
  .meta({ id: 'RuleWrite' });
export const Message = z
  .object({ message: z.string(), applied: z.boolean().optional(), apply: Applied.optional() })
  .meta({ id: 'Message' });

export const Pagination = z
  .object({
    page: z.number().int(),
    limit: z.number().int(),
    total: z.number().int(),
    pages: z.number().int(),
    total_is_estimate: z.boolean().optional(),
    next_cursor: z.string().nullable().optional(),
  })
  .meta({ id: 'Pagination' });

export const AuditLog = z
  .object({
    id: z.number().int(),
    event_timestamp: z.string().meta({ example: '2026-11-24T12:00:00.000000Z' }),
    hostname: z.string(),
    matched_rule_id: z.number().int(),
    handling_decision: z.string(),
    forwarded_to_moog: z.boolean(),
    raw_message: z.string().nullable(),
    event_timestamp_substituted: z.boolean().nullable(),
  })
  .meta({ id: 'AuditLog' });

export const ConfigChange = z
  .object({
    id: z.number().int(),
    changed_at: z.string().nullable(),
    changed_by: z.string().nullable(),
    operation: z.string().nullable(),
    table_name: z.string().nullable(),
    record_id: z.number().int().nullable(),
    old_values: z.unknown(),
    new_values: z.unknown(),
    reason: z.string().nullable(),
    correlation_id: z.string().nullable(),
  })
  .meta({ id: 'ConfigChange' });

export const DynamicEntry = z
  .object({
    key: z.string(),
    value: z.string(),
    source: z.string(),
    stored: z.string().nullable(),
    variable: z.string(),
    doc: z.string(),
    expected: z.string(),
  })
  .meta({ id: 'DynamicEntry' });

export const DlqItem = z
  .object({
    id: z.string(),
    index: z.number().int(),
    failed_at: z.string().nullable(),
    code: z.string().nullable(),
    reason: z.string().nullable(),
    hostname: z.string().nullable(),
    correlation_id: z.string().nullable(),
    replay_count: z.number().int(),
    item: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'DlqItem' });

export const DlqDepth = z
  .object({ key: z.string(), depth: z.number().int(), oldest_failed_at: z.string().nullable() })
  .meta({ id: 'DlqDepth' });

export const Loose = z.looseObject({});
