#!/bin/bash
# Runs inside the container booted by boot.sh, as a systemd oneshot unit: exercises mutt.service
# as an operator would and records what happened in /out (results: one key=value per line).
set -u
res=/out/results
r() { printf '%s.%s=%s\n' "$PHASE" "$1" "$2" >> "$res"; }
poll() { # poll SECONDS COMMAND...: retry until the command succeeds
  local n=$(( $1 * 5 )); shift
  while [ "$n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; n=$((n - 1)); done
  return 1
}

if [ "$PHASE" = upgraded ]; then
  # After the upgrade: the same data, migrations at start-up, then a clean stop.
  systemctl start mutt.service; r start_rc $?
  r health_code "$(curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/health)"
  r package "$(rpm --dbpath /var/lib/rpm-mutt-test -q mutt)"
  r keys_kept "$(mutt keys show --json | grep -o '"source":"generated"' | wc -l)"
  journalctl -u mutt.service -o cat --no-pager > /out/journal-upgraded.txt 2>&1
  systemctl stop mutt.service; r stop_rc $?
  r complete 1
  exit 0
fi

r mutt_user "$(getent passwd mutt | cut -d: -f1,6,7)"
r env_mode "$(stat -c '%a %U:%G' /etc/mutt/mutt.env)"
r secrets_mode "$(stat -c '%a %U:%G' /etc/mutt/secrets)"
r state_mode "$(stat -c '%a %U:%G' /var/lib/mutt)"
r enabled "$(systemctl is-enabled mutt.service)"
r rmem_max "$(sysctl -n net.core.rmem_max)"

# Start: returns only once MUTT has reported READY=1.
t0=$(date +%s%N)
systemctl start mutt.service; r start_rc $?
t1=$(date +%s%N)
r start_ms $(( (t1 - t0) / 1000000 ))
r active "$(systemctl is-active mutt.service)"
# Ready means ready: /health answers at once, without a retry.
curl -s -m 5 -o /out/health.json -w '%{http_code}' http://127.0.0.1:8080/health > /out/health.code
r health_code "$(cat /out/health.code)"
r status_text "$(systemctl show -P StatusText mutt.service)"
main=$(systemctl show -P MainPID mutt.service)
r main_user "$(ps -o user= -p "$main")"
r main_caps "$(grep CapEff /proc/"$main"/status | awk '{print $2}')"
ps -eo user:20,comm | awk '$2 ~ /redis-server|valkey-server|postgres/ {print $1 "/" $2}' | sort -u > /out/servers.txt
r data_dirs "$(find /var/lib/mutt -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')"
r pg_owner "$(stat -c '%U' /var/lib/mutt/postgres/data)"
r redis_owner "$(stat -c '%U' /var/lib/mutt/redis)"

# Events on the privileged ports, and over HTTP with the generated key.
logger --server 127.0.0.1 --port 514 --udp -p local7.err 'MUTTPKG syslog udp'
logger --server 127.0.0.1 --port 514 --tcp -p local7.err 'MUTTPKG syslog tcp'
snmptrap -v 2c -c public 127.0.0.1:162 '' 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.1 i 1 > /out/snmptrap.log 2>&1
key=$(mutt keys show ingest --value)
curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:8080/ingest -H "X-API-KEY: $key" \
  -H 'Content-Type: application/json' \
  -d '{"hostname":"pkg","message":"MUTTPKG http","timestamp":"2026-12-07T12:00:00Z"}' > /out/ingest.code
r ingest_code "$(cat /out/ingest.code)"
# The admin API on 8090 with the generated admin key; a rule added with the CLI shows there.
mutt rules add --match MUTTPKG --prod Ticket_only --dev Ignore --team PKG > /out/rules-add.log 2>&1
r rules_add_rc $?
admin_key=$(mutt keys show admin --value)
curl -s -m 5 -o /out/api-rules.json -w '%{http_code}' http://127.0.0.1:8090/api/v2/rules -H "X-API-KEY: $admin_key" > /out/api.code
r api_code "$(cat /out/api.code)"
r api_rule "$(grep -c '"match_string":"MUTTPKG"' /out/api-rules.json)"
metric() { curl -s -m 5 http://127.0.0.1:8080/metrics | awk -v m="$1" '$1 ~ "^"m {s += $2} END {print s + 0}'; }
poll 20 sh -c "curl -s http://127.0.0.1:8080/metrics | grep -q '^mutt_snmp_traps_received_total.* [1-9]'"
r syslog_messages "$(metric mutt_syslog_messages_total)"
r snmp_traps "$(metric mutt_snmp_traps_received_total)"
mutt keys show --json > /out/keys.json 2>&1

# Reload: validates, then SIGHUP; a bad configuration makes the reload fail and MUTT keeps running.
systemctl reload mutt.service; r reload_rc $?
cp /etc/mutt/mutt.env /root/mutt.env.good
echo 'REDIS_HOTS=redis.example' >> /etc/mutt/mutt.env
systemctl reload mutt.service; r bad_reload_rc $?
r active_after_bad_reload "$(systemctl is-active mutt.service)"

systemd-analyze security mutt.service > /out/security.txt 2>&1
systemd-analyze verify mutt.service > /out/verify.txt 2>&1; r verify_rc $?

# Stop: drains and stops the private servers.
systemctl stop mutt.service; r stop_rc $?
r stopped "$(systemctl is-active mutt.service)"
r servers_after_stop "$(pgrep -c -f 'redis-server|valkey-server|postgres' || true)"

# A misspelled variable: the unit does not start.
systemctl start mutt.service; r bad_start_rc $?
# Restart=on-failure retries a few times, then systemd's start limit leaves it failed.
# shellcheck disable=SC2016 # expanded by the inner shell, at each poll
poll 60 sh -c '[ "$(systemctl is-active mutt.service)" = failed ]'
r bad_start_state "$(systemctl is-active mutt.service)"
cp /root/mutt.env.good /etc/mutt/mutt.env

# A port already taken by rsyslog: start fails naming the port and the variable.
systemctl reset-failed mutt.service
printf '%s\n' 'module(load="imudp")' 'input(type="imudp" port="514")' '*.* /dev/null' > /run/rsyslog-514.conf
rsyslogd -n -f /run/rsyslog-514.conf -i /run/rsyslog-514.pid &
squatter=$!
poll 10 sh -c "ss -lun | grep -q ':514 '"
systemctl start mutt.service; r busy_start_rc $?
r busy_state "$(systemctl is-active mutt.service)"
kill "$squatter"

journalctl -u mutt.service -o cat --no-pager > /out/journal-first.txt 2>&1
systemctl stop mutt.service
r complete 1
