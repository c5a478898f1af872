-- 0003_admin: what the admin API adds. A rule-set generation that every change to rules, development
-- hosts or teams advances in the same transaction (through the API, psql or a Python node alike), so
-- a writer knows which generation its change is, and the alerters report the generation they run.
-- Nothing here changes a table Python MUTT 2.x reads.

CREATE TABLE IF NOT EXISTS mutt_rule_generation (
  id         INTEGER PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  generation BIGINT NOT NULL DEFAULT 0,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO mutt_rule_generation (id, generation) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

-- The change trigger of 0002 now also advances the generation (one row lock, held to the commit:
-- writers of these three small tables take turns) and carries it in the notification.
CREATE OR REPLACE FUNCTION mutt_notify_rules_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  g BIGINT;
BEGIN
  UPDATE mutt_rule_generation SET generation = generation + 1, changed_at = now() WHERE id = 1
    RETURNING generation INTO g;
  PERFORM pg_notify('mutt_rules_changed', TG_TABLE_NAME || ':' || coalesce(g, 0));
  RETURN NULL;
END;
$$;

-- Config-history queries filter by who and what changed, newest first.
CREATE INDEX IF NOT EXISTS idx_config_audit_log_table_id ON config_audit_log (table_name, id);
