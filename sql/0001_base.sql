-- 0001_base: MUTT's schema, the compatible superset of Python MUTT 2.x's (PROTOCOL.md).
--
-- Written to run both on an empty database and on one that Python MUTT's own schema created: every
-- statement creates what is missing and leaves existing tables and rows alone. Nothing here drops a
-- table, a column or a row.

-- Operator rules, matched by the alerter in priority order (lower first), ties by id.
CREATE TABLE IF NOT EXISTS alert_rules (
  id              SERIAL PRIMARY KEY,
  match_string    VARCHAR(255),
  trap_oid        VARCHAR(255),
  syslog_severity INTEGER CHECK (syslog_severity BETWEEN 0 AND 7),
  match_type      VARCHAR(20) NOT NULL DEFAULT 'contains'
                  CHECK (match_type IN ('contains', 'regex', 'oid_prefix')),
  priority        INTEGER NOT NULL DEFAULT 100,
  prod_handling   VARCHAR(100) NOT NULL,
  dev_handling    VARCHAR(100) NOT NULL,
  team_assignment VARCHAR(100) NOT NULL,
  is_active       BOOLEAN NOT NULL DEFAULT TRUE,
  CONSTRAINT alert_rules_match_or_oid CHECK (match_string IS NOT NULL OR trap_oid IS NOT NULL)
);
-- MUTT's nullable additions.
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS name        VARCHAR(255);
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS description TEXT;
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS created_at  TIMESTAMPTZ DEFAULT now();
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS updated_at  TIMESTAMPTZ DEFAULT now();
CREATE INDEX IF NOT EXISTS idx_alert_rules_active_priority ON alert_rules (priority, id) WHERE is_active;

CREATE TABLE IF NOT EXISTS development_hosts (
  hostname VARCHAR(255) PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS device_teams (
  hostname        VARCHAR(255) PRIMARY KEY,
  team_assignment VARCHAR(100) NOT NULL
);

-- One row per handled event, partitioned by month (event_audit_log_YYYY_MM).
CREATE TABLE IF NOT EXISTS event_audit_log (
  id                BIGSERIAL,
  event_timestamp   TIMESTAMPTZ NOT NULL,
  hostname          VARCHAR(255) NOT NULL,
  matched_rule_id   INTEGER NOT NULL REFERENCES alert_rules (id),
  handling_decision VARCHAR(100) NOT NULL,
  forwarded_to_moog BOOLEAN NOT NULL DEFAULT FALSE,
  raw_message       TEXT,
  PRIMARY KEY (id, event_timestamp)
) PARTITION BY RANGE (event_timestamp);
CREATE INDEX IF NOT EXISTS idx_event_audit_log_hostname_ts ON event_audit_log (hostname, event_timestamp);
CREATE INDEX IF NOT EXISTS idx_event_audit_log_rule_ts ON event_audit_log (matched_rule_id, event_timestamp);
CREATE INDEX IF NOT EXISTS idx_event_audit_log_ts ON event_audit_log (event_timestamp);

-- create_monthly_partition(date): creates event_audit_log_YYYY_MM for the month holding the date, with
-- UTC month bounds, and returns its name. Safe to call concurrently and repeatedly. Replaces Python
-- MUTT's function of the same name (which may differ in return type, hence DROP + CREATE).
DROP FUNCTION IF EXISTS create_monthly_partition(DATE);
CREATE FUNCTION create_monthly_partition(partition_date DATE) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
  month_start DATE := date_trunc('month', partition_date)::DATE;
  month_end   DATE := (date_trunc('month', partition_date) + INTERVAL '1 month')::DATE;
  part_name   TEXT := format('event_audit_log_%s', to_char(month_start, 'YYYY_MM'));
BEGIN
  IF to_regclass(part_name) IS NULL THEN
    BEGIN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF event_audit_log FOR VALUES FROM (%L) TO (%L)',
        part_name,
        (month_start::TIMESTAMP AT TIME ZONE 'UTC'),
        (month_end::TIMESTAMP AT TIME ZONE 'UTC'));
    EXCEPTION
      WHEN duplicate_table THEN NULL;          -- created concurrently by another node
      WHEN invalid_object_definition THEN      -- overlaps a partition created with other bounds
        RAISE NOTICE 'partition % not created: %', part_name, SQLERRM;
    END;
  END IF;
  RETURN part_name;
END;
$$;

-- Changes to rules, hosts and teams made through the API.
CREATE TABLE IF NOT EXISTS config_audit_log (
  id             BIGSERIAL PRIMARY KEY,
  changed_at     TIMESTAMPTZ DEFAULT now(),
  changed_by     VARCHAR(100),
  operation      VARCHAR(10) CHECK (operation IN ('CREATE', 'UPDATE', 'DELETE')),
  table_name     VARCHAR(50),
  record_id      INTEGER,
  old_values     JSONB,
  new_values     JSONB,
  reason         TEXT,
  correlation_id VARCHAR(64)
);
CREATE INDEX IF NOT EXISTS idx_config_audit_log_changed_at ON config_audit_log (changed_at);
CREATE INDEX IF NOT EXISTS idx_config_audit_log_table_record ON config_audit_log (table_name, record_id);
