-- 0002_alerter: what MUTT's alerter adds to the base schema. Nullable columns and triggers only, so
-- Python MUTT 2.x nodes sharing the database keep working unchanged.

-- Set (true) on rows whose event timestamp could not be stored as it was (unreadable, or in a month
-- outside the kept range): event_timestamp then holds the time MUTT received the event, and the
-- original is in raw_message. NULL on every other row, and on rows written by Python MUTT.
ALTER TABLE event_audit_log ADD COLUMN IF NOT EXISTS event_timestamp_substituted BOOLEAN;

-- Rule-cache change notification: any change to rules, development hosts or teams (through the API,
-- psql or a Python node) tells every MUTT alerter to reload at once.
CREATE OR REPLACE FUNCTION mutt_notify_rules_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mutt_rules_changed', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS mutt_rules_changed ON alert_rules;
CREATE TRIGGER mutt_rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alert_rules
  FOR EACH STATEMENT EXECUTE FUNCTION mutt_notify_rules_changed();
DROP TRIGGER IF EXISTS mutt_rules_changed ON development_hosts;
CREATE TRIGGER mutt_rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON development_hosts
  FOR EACH STATEMENT EXECUTE FUNCTION mutt_notify_rules_changed();
DROP TRIGGER IF EXISTS mutt_rules_changed ON device_teams;
CREATE TRIGGER mutt_rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON device_teams
  FOR EACH STATEMENT EXECUTE FUNCTION mutt_notify_rules_changed();
