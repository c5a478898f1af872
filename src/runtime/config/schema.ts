// Every variable MUTT reads, grouped as in the configuration reference (docs/CONFIGURATION.md is
// generated from this file by `npm run docs:config`). Names and defaults follow MUTT 2.x unless the
// entry carries a `note` explaining the difference.
import {
  bool,
  float,
  int,
  list,
  oneOf,
  path,
  port,
  secret,
  str,
  url,
  type Values,
  type VarSpec,
} from './spec.ts';

export const ROLES = ['listeners', 'alerter', 'forwarder', 'remediation', 'webui'] as const;
export type Role = (typeof ROLES)[number];

const KEY_RE = /^[A-Za-z0-9_.:{}-]+$/;
const KEY_TEXT = 'a Redis key name (letters, digits, _ . : - { })';
const key = (group: string, doc: string, def: string) =>
  str({ group, doc, default: def, pattern: KEY_RE, patternText: KEY_TEXT });

const G = {
  general: 'General',
  redis: 'Redis',
  pg: 'PostgreSQL',
  secrets: 'Secrets and Vault',
  ingest: 'HTTP ingest',
  listeners: 'Syslog and SNMP listeners',
  alerter: 'Alerter',
  forwarder: 'Moogsoft forwarder',
  remediation: 'Remediation',
  webui: 'Web UI',
} as const;

const COMPAT_PORT_NOTE =
  'Accepted for compatibility with MUTT 2.x deployments and validated, but MUTT runs every component in one process and serves all metrics and health at SERVER_PORT_INGESTOR (`/metrics`, `/health`).';

export const schema = {
  // ── General ──────────────────────────────────────────────────────────────────────────────────
  MUTT_ROLES: list({
    group: G.general,
    doc: 'Components this node runs: `all`, or any of `listeners`, `alerter`, `forwarder`, `remediation`, `webui`.',
    default: ['all'] as readonly string[],
    item: (s) => s === 'all' || (ROLES as readonly string[]).includes(s),
    itemText: 'all, listeners, alerter, forwarder, remediation, webui',
  }),
  MUTT_DATA_DIR: path({
    group: G.general,
    doc: 'State directory: private Redis and PostgreSQL data when they are embedded, generated API keys, the SNMP engine ID.',
    default: undefined,
    defaultText: '`/var/lib/mutt` as root, else `$XDG_STATE_HOME/mutt` (`~/.local/state/mutt`)',
  }),
  MUTT_KEY_PREFIX: str({
    group: G.general,
    doc: 'Replaces the leading `mutt` of every Redis key and channel (for example `mutt:ingest_queue`). Lets several independent MUTT installations share one Redis.',
    default: 'mutt',
    pattern: /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$/,
    patternText: 'letters, digits, _ . - separated by single colons',
  }),
  MUTT_LISTEN_ADDRESS: str({
    group: G.general,
    doc: 'Address the HTTP servers bind to.',
    default: undefined,
    defaultText: 'all interfaces (IPv6 and IPv4)',
  }),
  POD_NAME: str({
    group: G.general,
    doc: 'Identity of this node in Redis processing lists and heartbeats, stable across restarts so that a restarted node takes back at once the work its previous process held. Must be unique per node and must not contain `:`. While a MUTT process runs, it holds the name in Redis (`mutt:node:<name>`, renewed every 5 s, gone 15 s after a crash); a second process started with the same name refuses to start (exit 78), naming the process that holds it. A holder on this host whose PID is gone (a crash) is taken over at once; one MUTT cannot check (another host or container) is watched: refused as soon as its lease is seen renewed, taken over once the lease runs out.',
    default: undefined,
    defaultText: 'the host name',
    note: 'MUTT 2.x uses `<hostname>-<pid>` by default; a stable name lets a restarted node reclaim its processing lists without waiting for the janitor.',
    pattern: /^[^:\s]+$/,
    patternText: 'a name without ":" or spaces',
  }),
  LOG_LEVEL: oneOf({
    group: G.general,
    doc: 'Log level of the logs on standard output.',
    default: 'INFO',
    values: ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'],
    aliases: { warn: 'WARNING', trace: 'DEBUG', fatal: 'CRITICAL' },
  }),
  LOG_FORMAT: oneOf({
    group: G.general,
    doc: 'Log format on standard output: `json` (one JSON object per line, for the journal and log shippers), `text` (coloured, one readable line per entry), or `auto`: `text` when standard output is a terminal, else `json`.',
    default: 'auto',
    values: ['auto', 'json', 'text'],
  }),
  DYNAMIC_CONFIG_ENABLED: bool({
    group: G.general,
    doc: 'Read tunables from `mutt:config:*` in Redis at run time (falling back to the static value when a key is missing or invalid).',
    default: true,
    note: 'MUTT 2.5 defaults to `false`.',
  }),
  COMPAT_MODE: oneOf({
    group: G.general,
    doc: '`off`: the alerter and forwarder decide as MUTT does. `python2`: parity mode for a fleet that mixes MUTT and Python MUTT 2.x nodes on one Redis: rule matching, unhandled counting, meta-alerts, audit rows, alert JSON and Moogsoft severities follow Python MUTT 2.x, so an event gets the same decision whichever alerter takes it (docs/COMPATIBILITY.md lists every difference and what parity mode does with it). Dynamic key `compat_mode` switches a whole fleet at once; each batch is decided wholly in one mode.',
    default: 'off' as const,
    values: ['off', 'python2'],
    note: 'New in MUTT; Python MUTT 2.x behaves as `python2`.',
  }),

  // ── Redis ────────────────────────────────────────────────────────────────────────────────────
  REDIS_URL: url({
    group: G.redis,
    doc: 'Redis connection as one URL (`redis://[user:pass@]host:port/db`, `rediss://` for TLS). Alternative to REDIS_HOST/REDIS_PORT.',
    default: undefined,
    protocols: ['redis:', 'rediss:'],
  }),
  REDIS_HOST: str({
    group: G.redis,
    doc: 'Redis host name or address, or the absolute path of its Unix socket.',
    default: undefined,
    defaultText: 'unset: MUTT starts a private `redis-server` under MUTT_DATA_DIR',
  }),
  REDIS_PORT: port({ group: G.redis, doc: 'Redis port.', default: 6379 }),
  REDIS_DB: int({ group: G.redis, doc: 'Redis logical database number.', default: 0, min: 0, max: 1023 }),
  REDIS_USERNAME: str({ group: G.redis, doc: 'Redis ACL user name (Redis 6+).', default: undefined }),
  REDIS_PASS: secret({
    group: G.redis,
    doc: 'Redis password (for REDIS_USERNAME, or the `default` user). REDIS_PASS_CURRENT, when set, takes its place.',
  }),
  REDIS_PASS_CURRENT: secret({
    group: G.redis,
    doc: 'The Redis password in use, for zero-downtime rotation (docs/SECURITY.md): every new connection tries it first and falls back to REDIS_PASS_NEXT when Redis refuses it.',
  }),
  REDIS_PASS_NEXT: secret({
    group: G.redis,
    doc: 'The next Redis password during a rotation: tried when Redis refuses REDIS_PASS_CURRENT.',
  }),
  REDIS_TLS_ENABLED: bool({
    group: G.redis,
    doc: 'Connect to Redis over TLS.',
    default: false,
    note: 'MUTT 2.x defaults to `true`; MUTT defaults to `false` because its embedded Redis listens on a private socket.',
  }),
  REDIS_CA_CERT_PATH: path({
    group: G.redis,
    doc: 'CA certificate (PEM) that signs the Redis server certificate. The server certificate must also name the host MUTT connects to (REDIS_HOST, or the address Sentinel gives).',
    default: undefined,
    defaultText: 'the system CA list',
  }),
  REDIS_TLS_CERT_PATH: path({
    group: G.redis,
    doc: 'Client certificate (PEM) MUTT presents to Redis, for a server with `tls-auth-clients yes`. Needs REDIS_TLS_KEY_PATH.',
    default: undefined,
  }),
  REDIS_TLS_KEY_PATH: path({
    group: G.redis,
    doc: 'Private key (PEM) of REDIS_TLS_CERT_PATH (readable by the mutt user only).',
    default: undefined,
  }),
  REDIS_MAX_CONNECTIONS: int({
    group: G.redis,
    doc: 'Upper bound on Redis connections per thread.',
    default: 20,
    min: 1,
    note: 'MUTT pipelines commands over a few connections per thread (one per blocking loop), far below this bound.',
  }),
  REDIS_SENTINELS: list({
    group: G.redis,
    doc: 'Redis Sentinel endpoints (`host:port,host:port`). When set, MUTT asks them for the master named REDIS_SENTINEL_MASTER and follows fail-overs.',
    default: [] as readonly string[],
    item: (s) => /^[^\s:]+:\d{1,5}$/.test(s) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(s),
    itemText: 'host:port',
  }),
  REDIS_SENTINEL_MASTER: str({ group: G.redis, doc: 'Sentinel master group name.', default: 'mymaster' }),
  REDIS_SENTINEL_PASS: secret({ group: G.redis, doc: 'Password for the Sentinel endpoints themselves.' }),
  REDIS_SENTINEL_TLS_ENABLED: bool({
    group: G.redis,
    doc: 'Talk to the Sentinel endpoints over TLS (with the same CA and client certificate as Redis).',
    default: undefined,
    defaultText: 'the value of REDIS_TLS_ENABLED',
  }),
  REDIS_SENTINEL_STARTUP_TIMEOUT: int({
    group: G.redis,
    doc: 'Seconds MUTT keeps asking the Sentinels of REDIS_SENTINELS for the master at start-up before it stops with an error naming them. A master name no Sentinel knows stops start-up at once; a master that refuses the password is named in an error (its address, the password variables tried) and start-up goes on, as with any Redis that refuses MUTT.',
    default: 60,
    min: 1,
    max: 3600,
  }),
  REDIS_MIN_REPLICAS_ACK: int({
    group: G.redis,
    doc: 'Replicas that must confirm each batch of events (Redis `WAIT`) before MUTT acknowledges it: the HTTP 200, the answer to an inform, the next read of a syslog TCP connection. With 1, an event MUTT acknowledged survives the loss of the master in a Sentinel failover; without, replication is asynchronous and the writes of the last moments before a master dies can vanish with it. When the replicas do not confirm within REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS: HTTP answers 503 and informs stay unanswered (the master has the events, so a client that retries may have them queued twice); a syslog TCP connection stops reading until the replicas confirm what it sent; UDP events count as queued. Costs one round trip to the replica per batch; see docs/HA.md.',
    default: 0,
    min: 0,
    max: 16,
    note: 'MUTT 2.x has no such setting (0: acknowledge once the master has the events).',
  }),
  REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS: int({
    group: G.redis,
    doc: 'Milliseconds MUTT waits for REDIS_MIN_REPLICAS_ACK replicas to confirm a batch.',
    default: 1000,
    min: 10,
    max: 4000,
  }),

  // ── PostgreSQL ───────────────────────────────────────────────────────────────────────────────
  DB_HOST: str({
    group: G.pg,
    doc: 'PostgreSQL host name, address, or Unix-socket directory; or, for a cluster with failover (Patroni, repmgr, pg_auto_failover), a comma-separated list of its members as `host` or `host:port` (`[v6addr]:port`), as in a libpq multi-host connection string with `target_session_attrs=read-write`: MUTT connects to the member that accepts writes and looks again when it fails or becomes a replica.',
    default: undefined,
    defaultText: 'unset: MUTT starts a private `postgres` under MUTT_DATA_DIR',
  }),
  DB_PORT: port({ group: G.pg, doc: 'PostgreSQL port.', default: 5432 }),
  DB_NAME: str({ group: G.pg, doc: 'Database name.', default: 'mutt_db' }),
  DB_USER: str({ group: G.pg, doc: 'Database user.', default: 'mutt_user' }),
  DB_PASS: secret({
    group: G.pg,
    doc: 'Database password. DB_PASS_CURRENT, when set, takes its place.',
  }),
  DB_PASS_CURRENT: secret({
    group: G.pg,
    doc: 'The PostgreSQL password in use, for zero-downtime rotation (docs/SECURITY.md): every new connection tries it first and falls back to DB_PASS_NEXT when PostgreSQL refuses it.',
  }),
  DB_PASS_NEXT: secret({
    group: G.pg,
    doc: 'The next PostgreSQL password during a rotation: tried when PostgreSQL refuses DB_PASS_CURRENT.',
  }),
  DB_TLS_ENABLED: bool({
    group: G.pg,
    doc: 'Connect to PostgreSQL over TLS (the server certificate is verified).',
    default: false,
    note: 'MUTT 2.x defaults to `true`; MUTT defaults to `false` because its embedded PostgreSQL listens on a private socket.',
  }),
  DB_TLS_CA_CERT_PATH: path({
    group: G.pg,
    doc: 'CA certificate (PEM) that signs the PostgreSQL server certificate. The server certificate must also name DB_HOST (`verify-full`).',
    default: undefined,
    defaultText: 'the system CA list',
  }),
  DB_TLS_CERT_PATH: path({
    group: G.pg,
    doc: 'Client certificate (PEM) MUTT presents to PostgreSQL (for `hostssl … cert` or `clientcert=verify-full` in pg_hba.conf). Needs DB_TLS_KEY_PATH.',
    default: undefined,
  }),
  DB_TLS_KEY_PATH: path({
    group: G.pg,
    doc: 'Private key (PEM) of DB_TLS_CERT_PATH (readable by the mutt user only).',
    default: undefined,
  }),
  DB_POOL_MIN_CONN: int({
    group: G.pg,
    doc: 'Connections each pool keeps open.',
    default: 2,
    min: 0,
    max: 1000,
  }),
  DB_POOL_MAX_CONN: int({
    group: G.pg,
    doc: 'Maximum connections per pool.',
    default: 10,
    min: 1,
    max: 1000,
  }),

  // ── Secrets ──────────────────────────────────────────────────────────────────────────────────
  VAULT_ADDR: url({
    group: G.secrets,
    doc: 'HashiCorp Vault address. When set, MUTT logs in with AppRole (VAULT_ROLE_ID and the secret ID in VAULT_SECRET_ID_FILE), reads its secrets from the KV v2 secret at VAULT_SECRETS_PATH, renews its token, and applies a new version of the secret without a restart. Precedence of the sources of a secret: Vault, then systemd credentials (`$CREDENTIALS_DIRECTORY/<NAME>`), then `<NAME>_FILE`, then `<NAME>` (docs/SECURITY.md).',
    default: undefined,
    protocols: ['http:', 'https:'],
  }),
  VAULT_ROLE_ID: str({
    group: G.secrets,
    doc: 'Vault AppRole role ID (required with VAULT_ADDR).',
    default: undefined,
  }),
  VAULT_SECRET_ID_FILE: path({
    group: G.secrets,
    doc: 'File holding the Vault AppRole secret ID; it must not be readable by other users (`chmod 600`). A systemd credential named `VAULT_SECRET_ID` takes its place.',
    default: '/etc/mutt/secrets/vault_secret_id',
  }),
  VAULT_SECRETS_PATH: str({
    group: G.secrets,
    doc: 'KV v2 secret holding the MUTT secrets, as `<mount>/<path>` (the first segment is the secrets engine mount; `secret/data/mutt` is read as `secret/mutt`). Keys read: INGEST_API_KEY, WEBUI_API_KEY, MOOG_API_KEY, REDIS_PASS, REDIS_PASS_CURRENT, REDIS_PASS_NEXT, DB_USER, DB_PASS, DB_PASS_CURRENT, DB_PASS_NEXT, and every other secret variable of this reference under its own name.',
    default: 'secret/mutt',
    pattern: /^[^/\s]+\/[^\s]*[^/\s]$/,
    patternText: '<mount>/<path>, e.g. secret/mutt',
  }),
  VAULT_NAMESPACE: str({
    group: G.secrets,
    doc: 'Vault Enterprise namespace (sent as `X-Vault-Namespace`).',
    default: undefined,
  }),
  VAULT_CACERT: path({
    group: G.secrets,
    doc: 'CA certificate bundle (PEM) that signs the Vault server certificate.',
    default: undefined,
    defaultText: 'the system CA list',
  }),
  VAULT_APPROLE_MOUNT: str({
    group: G.secrets,
    doc: 'Path the AppRole auth method is mounted at.',
    default: 'approle',
    pattern: /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
    patternText: 'a Vault mount path such as approle',
  }),
  VAULT_TOKEN_RENEW_THRESHOLD: int({
    group: G.secrets,
    doc: 'Renew the Vault token when its TTL falls below this many seconds. When renewal fails, or the token reaches its max TTL, MUTT logs in again.',
    default: 3600,
    min: 1,
  }),
  VAULT_RENEW_CHECK_INTERVAL: int({
    group: G.secrets,
    doc: 'Seconds between Vault token TTL checks.',
    default: 300,
    min: 1,
  }),
  VAULT_SECRET_CHECK_INTERVAL: int({
    group: G.secrets,
    doc: 'Seconds between checks of the KV secret version; a new version is read and applied at once (API keys, Moogsoft key, Redis and PostgreSQL passwords) in every thread.',
    default: 60,
    min: 1,
  }),
  VAULT_STARTUP_TIMEOUT: int({
    group: G.secrets,
    doc: 'Seconds start-up keeps retrying an unreachable or sealed Vault before it stops with the reason. Once running, MUTT keeps the secrets it has through any Vault outage.',
    default: 60,
    min: 1,
  }),

  // ── HTTP ingest ──────────────────────────────────────────────────────────────────────────────
  SERVER_PORT_INGESTOR: port({
    group: G.ingest,
    doc: 'HTTP port for `POST /ingest`, `/health` and `/metrics`. 0 disables the HTTP ingest listener.',
    default: 8080,
    allowZero: true,
  }),
  INGEST_API_KEY: secret({
    group: G.ingest,
    doc: 'API key clients send in `X-API-KEY`. When it is set nowhere (and Vault is not used), MUTT generates one on first start in `MUTT_DATA_DIR/secrets/ingest_api_key`.',
  }),
  INGEST_API_KEY_PREVIOUS: secret({
    group: G.ingest,
    doc: 'The previous ingest API key, still accepted during a key rotation (`mutt_ingest_previous_key_requests_total` counts its use; remove it once that stops growing).',
  }),
  SERVER_TLS_CERT: path({
    group: G.ingest,
    doc: 'PEM certificate (chain) for HTTPS on SERVER_PORT_INGESTOR. With SERVER_TLS_KEY it turns HTTPS on (TLS 1.2 or newer, forward-secret AEAD ciphers only); both files are read again on SIGHUP.',
    default: undefined,
    defaultText: 'plain HTTP',
  }),
  SERVER_TLS_KEY: path({
    group: G.ingest,
    doc: 'PEM private key of SERVER_TLS_CERT (readable by the mutt user only).',
    default: undefined,
  }),
  MAX_INGEST_QUEUE_SIZE: int({
    group: G.ingest,
    doc: 'Ingest queue cap: at this depth HTTP ingest answers 503 with Retry-After, TCP and TLS syslog stop reading (the senders queue on their side) and UDP syslog and traps are shed and counted. The check is made per batch written to Redis (the events read within a few milliseconds travel together, up to 5,000): a batch that finds the queue below the cap is queued whole, so the depth can pass the cap by at most one batch. The only place MUTT turns clients away: everything behind it holds events rather than dropping them. A queued syslog event costs about 0.4 KB of Redis memory (measured: 392 bytes for a Cisco IOS line), so a full queue at the default is about 400 MB and holds 55 minutes of 300 events/s (docs/RELIABILITY.md).',
    default: 1_000_000,
    min: 1,
  }),
  INGEST_QUEUE_NAME: key(G.ingest, 'Redis list that receives events.', 'mutt:ingest_queue'),
  METRICS_PREFIX: key(G.ingest, 'Prefix of the per-minute/hour/day event counters in Redis.', 'mutt:metrics'),
  REQUIRED_MESSAGE_FIELDS: list({
    group: G.ingest,
    doc: 'Fields every ingested event must carry, non-empty.',
    default: ['timestamp', 'message', 'hostname'] as readonly string[],
  }),
  INGEST_MAX_BODY_BYTES: int({
    group: G.ingest,
    doc: 'Largest accepted request body; larger bodies get 413 without being read.',
    default: 1_048_576,
    min: 1024,
    max: 256 * 1024 * 1024,
  }),
  INGEST_RATE_LIMIT: int({
    group: G.ingest,
    doc: 'Requests accepted per INGEST_RATE_WINDOW across every ingest node sharing the Redis (`mutt:rate_limit:ingestor`); 0 disables the limit. Excess requests get 429 with Retry-After.',
    default: 0,
    min: 0,
  }),
  INGEST_RATE_WINDOW: int({
    group: G.ingest,
    doc: 'Sliding window of INGEST_RATE_LIMIT, in seconds.',
    default: 1,
    min: 1,
    max: 3600,
  }),

  // ── Listeners ────────────────────────────────────────────────────────────────────────────────
  SYSLOG_UDP_PORT: port({
    group: G.listeners,
    doc: 'Syslog over UDP (RFC 3164 / RFC 5424). 0 disables it.',
    default: 514,
    allowZero: true,
  }),
  SYSLOG_TCP_PORT: port({
    group: G.listeners,
    doc: 'Syslog over TCP (RFC 6587 octet counting or LF framing). 0 disables it.',
    default: 514,
    allowZero: true,
  }),
  SYSLOG_TLS_PORT: port({
    group: G.listeners,
    doc: 'Syslog over TLS (RFC 5425). Listens only when SYSLOG_TLS_CERT and SYSLOG_TLS_KEY are set.',
    default: 6514,
    allowZero: true,
  }),
  SYSLOG_LISTEN_ADDRESS: str({
    group: G.listeners,
    doc: 'Address the syslog listeners (UDP, TCP, TLS) bind to (an IPv4 or IPv6 address).',
    default: undefined,
    defaultText:
      'all interfaces (dual-stack IPv6 sockets that also receive IPv4; IPv4 only when the host has no IPv6)',
    pattern: /^([0-9.]+|[0-9A-Fa-f:.]+(%[\w.-]+)?)$/,
    patternText: 'an IPv4 or IPv6 address',
  }),
  SYSLOG_TLS_CERT: path({
    group: G.listeners,
    doc: 'PEM certificate (chain) of the syslog TLS listener. With SYSLOG_TLS_KEY it turns the TLS listener on.',
    default: undefined,
  }),
  SYSLOG_TLS_KEY: path({
    group: G.listeners,
    doc: 'PEM private key of SYSLOG_TLS_CERT (readable by the mutt user only).',
    default: undefined,
  }),
  SYSLOG_TLS_CA: path({
    group: G.listeners,
    doc: 'PEM CA bundle: when set, TLS clients must present a certificate signed by it (mutual TLS, RFC 5425 §5.2); clients without one are rejected and counted.',
    default: undefined,
    defaultText: 'no client certificate required',
  }),
  SYSLOG_MAX_MESSAGE_SIZE: int({
    group: G.listeners,
    doc: 'Largest syslog message in bytes (UDP datagram or TCP frame). Longer messages are cut to this size and flagged `truncated` (counted in `mutt_syslog_truncated_total`).',
    default: 65536,
    min: 480,
    max: 16 * 1024 * 1024,
  }),
  SYSLOG_UDP_RCVBUF: int({
    group: G.listeners,
    doc: 'Kernel receive buffer of the syslog UDP socket, absorbing bursts. The kernel caps it at `net.core.rmem_max` (MUTT logs the size it got and warns when it is smaller); raise that sysctl with `etc/sysctl.d/60-mutt-udp.conf`.',
    default: 8 * 1024 * 1024,
    min: 65536,
    max: 1024 * 1024 * 1024,
  }),
  SYSLOG_DEFAULT_TIMEZONE: str({
    group: G.listeners,
    doc: "IANA time zone of syslog timestamps that carry no offset (RFC 3164 `Mar 10 12:00:00`), e.g. `Europe/Paris`. Set it to the devices' clock zone.",
    default: 'UTC',
    pattern: /^[A-Za-z][A-Za-z0-9_+\-/]*$/,
    patternText: 'an IANA time zone name such as UTC or Europe/Paris',
  }),
  SYSLOG_REVERSE_DNS: bool({
    group: G.listeners,
    doc: 'Name the `hostname` of a syslog message whose header has none by looking its source address up through the system resolver (`/etc/hosts`, then DNS; cached five minutes; the address is used when the lookup fails or takes more than a second).',
    default: false,
  }),
  SYSLOG_PARSER_THREAD: bool({
    group: G.listeners,
    doc: 'Parse syslog messages and build their events on a thread of their own while the main thread is busy (its CPU time above 75 % of a core), leaving it to read the sockets and write to Redis: about 40 % of the per-message work moves off it, and the UDP rate read without loss rises accordingly. While the main thread has room (below 50 %, counting the parsing it would take back) it parses itself, which costs less CPU per message than the hand-off (`mutt_syslog_parser_thread_in_use` says which). Events keep their order. With `false`, or with SYSLOG_REVERSE_DNS for a name not yet in the cache, the main thread always parses. If the thread fails, the main thread takes over the messages it held.',
    default: true,
  }),
  SYSLOG_TCP_IDLE_TIMEOUT: int({
    group: G.listeners,
    doc: 'Seconds a syslog TCP or TLS connection may stay silent before MUTT closes it (0: never).',
    default: 300,
    min: 0,
  }),
  SYSLOG_TCP_MAX_CONNECTIONS: int({
    group: G.listeners,
    doc: 'Open syslog TCP and TLS connections at most (each listener); further connections are closed at once and counted.',
    default: 2000,
    min: 1,
  }),
  SYSLOG_PENDING_MAX_EVENTS: int({
    group: G.listeners,
    doc: 'UDP syslog events held in memory while Redis is unreachable, retried until it answers. Beyond this, new UDP messages are shed and counted (`mutt_syslog_shed_total{reason="buffer_full"}`). TCP and TLS senders are paused instead.',
    default: 100_000,
    min: 100,
  }),
  SNMP_TRAP_PORT: port({
    group: G.listeners,
    doc: 'SNMP traps and informs (UDP, SNMPv1, v2c and v3). 0 disables it.',
    default: 162,
    allowZero: true,
  }),
  SNMP_LISTEN_ADDRESS: str({
    group: G.listeners,
    doc: 'Address the SNMP trap listener binds to (an IPv4 or IPv6 address).',
    default: undefined,
    defaultText:
      'all interfaces (one dual-stack IPv6 socket that also receives IPv4; IPv4 only when the host has no IPv6)',
    pattern: /^([0-9.]+|[0-9A-Fa-f:.]+(%[\w.-]+)?)$/,
    patternText: 'an IPv4 or IPv6 address',
  }),
  SNMP_COMMUNITIES: secret({
    group: G.listeners,
    doc: 'SNMPv1/v2c communities accepted, comma-separated (in SNMP_COMMUNITIES_FILE also one per line). Traps and informs with any other community are dropped and counted (`mutt_snmp_auth_failures_total{reason="bad_community"}`). Communities are never logged nor stored in events.',
    defaultText: '`public`, with a warning at start-up',
  }),
  SNMP_USERS_FILE: path({
    group: G.listeners,
    doc: 'SNMPv3 USM users, one `createUser [-e ENGINEID] NAME (SHA|SHA-224|SHA-256|SHA-384|SHA-512) AUTHPASS [AES|AES-256|AES-256C [PRIVPASS]]` line each, as in snmptrapd.conf (other snmptrapd directives are ignored with a warning). Example: `etc/snmp-users.conf`. A user with `-e` accepts traps only from those engine IDs. When the default file does not exist, SNMPv3 is off; a file named explicitly must exist.',
    default: '/etc/mutt/snmp-users.conf',
  }),
  SNMP_ALLOW_WEAK_CRYPTO: bool({
    group: G.listeners,
    doc: 'Accept SNMPv3 users with MD5 or SHA-1 authentication or DES privacy (each such user is logged with a warning). Off by default: only the SHA-2 family and AES are accepted.',
    default: false,
  }),
  SNMP_ENGINE_ID: str({
    group: G.listeners,
    doc: 'SNMPv3 engine ID of this receiver (hex, 5 to 32 octets), used by senders of v3 informs. Set the same value on nodes that share one address.',
    default: undefined,
    defaultText:
      'generated once and kept in `MUTT_DATA_DIR/snmp/engine.json` (with the engine boot counter), so v3 senders survive restarts',
    pattern: /^(0x)?([0-9A-Fa-f]{2}){5,32}$/,
    patternText: 'hex digits for 5 to 32 octets (for example 0x8000B98380A1B2C3D4E5F60718293A4B)',
  }),
  SNMP_MIB_DIRS: list({
    group: G.listeners,
    doc: 'Directories of MIB files (`*.txt`, `*.mib`, `*.my` or no extension) used to name trap and varbind OIDs (`IF-MIB::ifOperStatus.3`) and decode enumerations. Missing directories are skipped; a module found in several directories is taken from the first. A MIB that does not parse is reported and skipped.',
    default: [
      '/usr/share/snmp/mibs',
      '/usr/share/snmp/mibs/iana',
      '/usr/share/snmp/mibs/ietf',
      'etc/mibs',
    ] as readonly string[],
    defaultText:
      '`/usr/share/snmp/mibs,/usr/share/snmp/mibs/iana,/usr/share/snmp/mibs/ietf,etc/mibs` (`etc/mibs` of the MUTT installation: the IETF base modules and IF-MIB)',
  }),
  SNMP_DEFAULT_SEVERITY: str({
    group: G.listeners,
    doc: '`syslog_severity` given to every trap event (0-7 or a syslog severity name).',
    default: 'warning',
    pattern:
      /^([0-7]|emerg|emergency|panic|alert|crit|critical|err|error|warn|warning|notice|info|informational|information|debug)$/i,
    patternText:
      'an integer 0-7 or a syslog severity name (emerg, alert, crit, err, warning, notice, info, debug)',
  }),
  SNMP_REVERSE_DNS: bool({
    group: G.listeners,
    doc: 'Name the `hostname` of a trap that carries neither snmpTrapAddress.0 nor sysName by looking its source address up through the system resolver (`/etc/hosts`, then DNS; cached five minutes; the address is used when the lookup fails or takes more than a second).',
    default: false,
  }),
  SNMP_RECV_BUFFER_BYTES: int({
    group: G.listeners,
    doc: 'Kernel receive buffer of the trap socket, absorbing bursts. The kernel caps it at `net.core.rmem_max` (MUTT logs the size it got); raise that sysctl for larger buffers.',
    default: 8 * 1024 * 1024,
    min: 65536,
    max: 1024 * 1024 * 1024,
  }),
  SNMP_PENDING_MAX_EVENTS: int({
    group: G.listeners,
    doc: 'Trap events held in memory while Redis is unreachable, retried until it answers. Beyond this, new traps are shed and counted (`mutt_snmp_traps_dropped_total{reason="buffer_full"}`).',
    default: 100_000,
    min: 100,
  }),

  // ── Alerter ──────────────────────────────────────────────────────────────────────────────────
  ALERTER_WORKERS: int({ group: G.alerter, doc: 'Alerter worker threads.', default: 1, min: 0, max: 64 }),
  METRICS_PORT_ALERTER: port({
    group: G.alerter,
    doc: 'MUTT 2.x alerter metrics port.',
    default: 8081,
    allowZero: true,
    note: COMPAT_PORT_NOTE,
  }),
  HEALTH_PORT_ALERTER: port({
    group: G.alerter,
    doc: 'MUTT 2.x alerter health port.',
    default: 8082,
    allowZero: true,
    note: COMPAT_PORT_NOTE,
  }),
  ALERT_QUEUE_NAME: key(G.alerter, 'Redis list of alerts waiting to be forwarded.', 'mutt:alert_queue'),
  ALERTER_PROCESSING_LIST_PREFIX: key(
    G.alerter,
    'Prefix of the per-worker processing lists.',
    'mutt:processing:alerter',
  ),
  ALERTER_HEARTBEAT_PREFIX: key(
    G.alerter,
    'Prefix of the per-worker heartbeat keys.',
    'mutt:heartbeat:alerter',
  ),
  ALERTER_HEARTBEAT_INTERVAL: int({
    group: G.alerter,
    doc: 'Seconds between heartbeats.',
    default: 10,
    min: 1,
  }),
  ALERTER_JANITOR_TIMEOUT: int({
    group: G.alerter,
    doc: 'Heartbeat TTL in seconds; a processing list whose heartbeat has been absent this long is returned to the queue.',
    default: 30,
    min: 2,
  }),
  ALERTER_DLQ_NAME: key(G.alerter, 'Dead-letter list for events the alerter gave up on.', 'mutt:dlq:alerter'),
  ALERTER_MAX_RETRIES: int({
    group: G.alerter,
    doc: 'Attempts before an event goes to the alerter DLQ.',
    default: 3,
    min: 0,
  }),
  BRPOPLPUSH_TIMEOUT: int({
    group: G.alerter,
    doc: 'Seconds a worker blocks waiting for work (BLMOVE) before checking for shutdown.',
    default: 5,
    min: 1,
    max: 300,
  }),
  CACHE_RELOAD_INTERVAL: int({
    group: G.alerter,
    doc: 'Seconds between rule-cache reloads.',
    default: 300,
    min: 1,
  }),
  UNHANDLED_PREFIX: key(G.alerter, 'Prefix of the unhandled-event counters.', 'mutt:unhandled'),
  UNHANDLED_THRESHOLD: int({
    group: G.alerter,
    doc: 'Unhandled events from one host and message signature before a meta-alert.',
    default: 100,
    min: 1,
  }),
  UNHANDLED_EXPIRY_SECONDS: int({
    group: G.alerter,
    doc: 'Lifetime of an unhandled counter and of the suppression after a meta-alert.',
    default: 86400,
    min: 1,
  }),
  UNHANDLED_DEFAULT_TEAM: str({
    group: G.alerter,
    doc: 'Team of a meta-alert when the host has no team assignment.',
    default: 'NETO',
  }),
  UNHANDLED_SIGNATURE: oneOf({
    group: G.alerter,
    doc: 'What makes two unhandled messages "the same" for the unhandled counter: `template` masks numbers, IP and MAC addresses and hex ids first (so `Gi0/1 down` and `Gi0/2 down` count together); `exact` uses the message as it is, as Python MUTT 2.x does.',
    default: 'template' as const,
    values: ['template', 'exact'],
    note: 'MUTT 2.x counts exact messages.',
  }),
  UNHANDLED_MAX_SIGNATURES: int({
    group: G.alerter,
    doc: "Distinct unhandled signatures counted per host within UNHANDLED_EXPIRY_SECONDS. Beyond it, a host's further new kinds of message are counted together under one `overflow` signature (a meta-alert still fires when they reach UNHANDLED_THRESHOLD), and `mutt_alerter_unhandled_folded_total` counts them, so a flood of random messages cannot create Redis keys without bound. 0 turns the cap off; parity mode (COMPAT_MODE=python2) counts without it, as Python does.",
    default: 1000,
    min: 0,
    note: 'MUTT addition: Python MUTT 2.x creates one key per distinct message.',
  }),
  ALERTER_BATCH_SIZE: int({
    group: G.alerter,
    doc: 'Most events one alerter worker takes from the ingest queue at once; their audit rows are written in one COPY and their alerts pushed in one call. A worker audits two batches at once while it decides the next, and settles them in the order taken: twice this bounds the events audited twice after a crash (per worker).',
    default: 500,
    min: 1,
    max: 10_000,
  }),
  ALERTER_QUEUE_WARN_THRESHOLD: int({
    group: G.alerter,
    doc: 'Alert-queue length above which the alerter logs a backpressure warning (once a minute). Dynamic key `alerter_queue_warn_threshold`.',
    default: 20_000,
    min: 1,
    note: 'MUTT 2.x: 1000. MUTT forwards up to 5,000 alerts/s at the default rate limit, so 20,000 is four seconds of forwarding.',
  }),
  ALERTER_QUEUE_SHED_THRESHOLD: int({
    group: G.alerter,
    doc: 'Alert-queue length above which the alerter defers (or sheds, ALERTER_SHED_MODE=dlq). At least ALERTER_BATCH_SIZE: one batch can add that many alerts. The queue can pass it by the batches a worker has in hand when it crosses it (two being audited and one decided: 3 × ALERTER_BATCH_SIZE per worker). In `dlq` mode, remediation replays shed events once the alert and ingest queues together are below half of it (the low-water mark). Dynamic key `alerter_queue_shed_threshold`.',
    default: 100_000,
    min: 0,
    note: "MUTT 2.x: 2000, sized for an alerter doing about 1,000 events/s. MUTT's alerter (about 36,000 events/s) outruns its forwarder at the default rate limit (5,000 alerts/s) about seven to one, so a catch-up burst crossed 2,000 within a second; 100,000 alerts (20 s of forwarding, about 80 MB of Redis at 0.8 KB per alert) let bursts and long Moogsoft outages pass without the alerter stopping (docs/RELIABILITY.md).",
  }),
  ALERTER_SHED_MODE: oneOf({
    group: G.alerter,
    doc: '`defer`: above the shed threshold the alerter pauses (ALERTER_DEFER_SLEEP_MS) and takes nothing, so events wait in the ingest queue, where MAX_INGEST_QUEUE_SIZE turns clients away; nothing is dead-lettered. `dlq`: it moves the oldest ingest events to the alerter DLQ with `shedding_reason` (`_dlq_code` `shed`); remediation replays them by itself once the pressure is gone. Dynamic key `alerter_shed_mode`.',
    default: 'defer' as const,
    values: ['dlq', 'defer'],
    note: 'MUTT 2.x defaults to `dlq`: shed events then wait for an operator. MUTT holds them by default.',
  }),
  ALERTER_DEFER_SLEEP_MS: int({
    group: G.alerter,
    doc: 'Pause of a deferring alerter (milliseconds). Dynamic key `alerter_defer_sleep_ms`.',
    default: 250,
    min: 1,
    max: 60_000,
  }),
  AUDIT_RETENTION_MONTHS: int({
    group: G.alerter,
    doc: 'Monthly audit-log partitions older than this many months are dropped by the daily partition task; 0 keeps them all. Events whose timestamp falls outside the kept months (or more than two months ahead) are audited with the time they were received and `event_timestamp_substituted` set.',
    default: 0,
    min: 0,
    max: 1200,
  }),
  AUDIT_RAW_MESSAGE_MAX_BYTES: int({
    group: G.alerter,
    doc: 'Largest event JSON stored in `event_audit_log.raw_message`; a larger event is stored with its message shortened (the alert still carries the whole event).',
    default: 65_536,
    min: 1024,
    max: 16 * 1024 * 1024,
  }),

  // ── Forwarder ────────────────────────────────────────────────────────────────────────────────
  FORWARDER_WORKERS: int({
    group: G.forwarder,
    doc: 'Forwarder worker threads.',
    default: 1,
    min: 0,
    max: 64,
  }),
  METRICS_PORT_MOOG: port({
    group: G.forwarder,
    doc: 'MUTT 2.x forwarder metrics port.',
    default: 8083,
    allowZero: true,
    note: COMPAT_PORT_NOTE,
  }),
  HEALTH_PORT_MOOG: port({
    group: G.forwarder,
    doc: 'MUTT 2.x forwarder health port.',
    default: 8084,
    allowZero: true,
    note: COMPAT_PORT_NOTE,
  }),
  MOOG_PROCESSING_LIST_PREFIX: key(
    G.forwarder,
    'Prefix of the forwarder processing lists.',
    'mutt:processing:moog',
  ),
  MOOG_HEARTBEAT_PREFIX: key(G.forwarder, 'Prefix of the forwarder heartbeat keys.', 'mutt:heartbeat:moog'),
  MOOG_HEARTBEAT_INTERVAL: int({
    group: G.forwarder,
    doc: 'Seconds between heartbeats.',
    default: 10,
    min: 1,
  }),
  MOOG_JANITOR_TIMEOUT: int({
    group: G.forwarder,
    doc: 'Forwarder heartbeat TTL in seconds.',
    default: 30,
    min: 2,
  }),
  MOOG_DLQ_NAME: key(G.forwarder, 'Dead-letter list for alerts Moogsoft rejected.', 'mutt:dlq:moog'),
  MOOG_WEBHOOK_URL: url({
    group: G.forwarder,
    doc: 'Moogsoft REST LAM / events endpoint.',
    default: undefined,
    defaultText: 'unset: alerts go to a local JSON-lines file under MUTT_DATA_DIR',
    protocols: ['http:', 'https:'],
  }),
  MOOG_API_KEY: secret({
    group: G.forwarder,
    doc: 'Credential for Moogsoft, used as MOOG_AUTH_MODE says. Never logged and never copied into queued alerts or DLQ items.',
  }),
  MOOG_WEBHOOK_TIMEOUT: float({
    group: G.forwarder,
    doc: 'Seconds a Moogsoft request may take in all (connecting, sending, and reading the answer, of which MUTT reads at most 64 KiB); then it counts as a timeout and is retried.',
    default: 10,
    min: 0,
    exclusiveMin: true,
  }),
  MOOG_RATE_LIMIT: int({
    group: G.forwarder,
    doc: 'Moogsoft requests per MOOG_RATE_PERIOD, shared by every forwarder on the Redis (MUTT and Python MUTT 2.x alike). A forwarder over the limit waits for the next free slot; it never drops an alert.',
    default: 50,
    min: 1,
  }),
  MOOG_RATE_PERIOD: float({
    group: G.forwarder,
    doc: 'Rate-limit window in seconds.',
    default: 1,
    min: 0,
    exclusiveMin: true,
  }),
  MOOG_RATE_LIMIT_KEY: key(
    G.forwarder,
    'Redis sorted set of the shared rate limiter.',
    'mutt:rate_limit:moog',
  ),
  MOOG_MAX_RETRIES: int({
    group: G.forwarder,
    doc: 'Retries of an alert that failed for a transient reason (5xx, 408, 429, timeout, connection) after which MOOG_RETRY_EXHAUSTED_MODE applies.',
    default: 5,
    min: 0,
  }),
  MOOG_RETRY_EXHAUSTED_MODE: oneOf({
    group: G.forwarder,
    doc: 'What happens to an alert that failed transiently more than MOOG_MAX_RETRIES times. `retry`: it keeps being retried, at most MOOG_RETRY_MAX_DELAY apart, and is counted in `mutt_moog_retries_exhausted_total` with a warning (once a minute): a transient fault never dead-letters an alert. `dlq`: it goes to the Moogsoft DLQ with `_dlq_code` `retries_exhausted`, which remediation replays once Moogsoft is healthy (MUTT 2.x).',
    default: 'retry' as const,
    values: ['retry', 'dlq'],
    note: 'MUTT 2.x dead-letters after MOOG_MAX_RETRIES: a flapping Moogsoft then fills the DLQ.',
  }),
  MOOG_RETRY_BASE_DELAY: float({
    group: G.forwarder,
    doc: 'First retry delay in seconds (doubles per attempt, with jitter).',
    default: 1,
    min: 0,
    exclusiveMin: true,
  }),
  MOOG_RETRY_MAX_DELAY: float({
    group: G.forwarder,
    doc: 'Longest retry delay in seconds.',
    default: 60,
    min: 0,
    exclusiveMin: true,
  }),
  MOOG_AUTH_MODE: oneOf({
    group: G.forwarder,
    doc: 'How requests authenticate: `none`; `bearer` (`Authorization: Bearer <MOOG_API_KEY>`); `basic` (MOOG_USERNAME and MOOG_API_KEY as the password); `auth_token` (REST LAM: MOOG_API_KEY as the top-level `auth_token` of the JSON body); `apikey` (Moogsoft Cloud: an `apiKey` header).',
    default: undefined,
    defaultText: '`bearer` when MOOG_API_KEY is set, else `none`',
    values: ['none', 'bearer', 'basic', 'auth_token', 'apikey'],
  }),
  MOOG_USERNAME: str({
    group: G.forwarder,
    doc: 'User name for MOOG_AUTH_MODE=basic (the password is MOOG_API_KEY).',
    default: undefined,
  }),
  MOOG_PAYLOAD_MODE: oneOf({
    group: G.forwarder,
    doc: '`batch`: up to MOOG_BATCH_SIZE events per request as `{"events":[…]}` (REST LAM). `single`: one event object per request, as Python MUTT 2.x sends it.',
    default: 'batch' as const,
    values: ['batch', 'single'],
  }),
  MOOG_BATCH_SIZE: int({
    group: G.forwarder,
    doc: 'Most alerts in one Moogsoft request (MOOG_PAYLOAD_MODE=batch). A request costs about the same whatever it carries: above about 10,000 alerts/s, 500 saves about 5 µs of CPU per alert across the forwarder, Redis and the receiver (docs/SCALING.md). MOOG_RATE_LIMIT counts requests.',
    default: 100,
    min: 1,
    max: 10_000,
  }),
  MOOG_JOURNAL_SIZE: int({
    group: G.forwarder,
    doc: 'Moogsoft requests remembered in the delivery journal (`mutt:journal:moog`, a capped Redis stream shared by the fleet) that `mutt trace` reads: when, which alerts (by correlation id), the answer. Each entry takes about 100 bytes plus 40 per alert, so 50,000 entries take 5 MB when requests carry one alert and 200 MB when every request carries 100. 0 keeps no journal.',
    default: 50_000,
    min: 0,
    max: 10_000_000,
  }),
  MOOG_BATCH_LINGER_MS: int({
    group: G.forwarder,
    doc: 'When fewer than MOOG_BATCH_SIZE alerts are waiting, how long a forwarder waits for more before sending a partial batch (milliseconds; 0 sends at once).',
    default: 50,
    min: 0,
    max: 60_000,
  }),
  MOOG_MAX_IN_FLIGHT: int({
    group: G.forwarder,
    doc: 'Requests one forwarder worker keeps in flight at once (each still needs a slot from the shared rate limiter).',
    default: 4,
    min: 1,
    max: 64,
  }),
  MOOG_CA_FILE: path({
    group: G.forwarder,
    doc: 'CA certificate bundle (PEM) that signs the Moogsoft server certificate, for a private CA. Replaces the system CA list, as `curl --cacert` does.',
    default: undefined,
    defaultText: 'the system CA list',
  }),
  MOOG_TLS_VERIFY: bool({
    group: G.forwarder,
    doc: 'Verify the Moogsoft TLS certificate and host name. Turn off only to diagnose; MUTT logs a warning at start-up when it is off.',
    default: true,
  }),
  MOOG_HEALTH_URL: url({
    group: G.forwarder,
    doc: 'URL remediation probes (GET) before replaying the Moogsoft DLQ; healthy on 2xx. Without it, remediation sends a GET to MOOG_WEBHOOK_URL and counts any answer below 500 other than 401, 403, 407 and 429 as healthy.',
    default: undefined,
    protocols: ['http:', 'https:'],
  }),
  MOOG_FILE_SINK_PATH: path({
    group: G.forwarder,
    doc: 'JSON-lines file that receives the alerts (one Moogsoft event per line) when MOOG_WEBHOOK_URL is unset. Reopened for every batch, so logrotate may rename it at any time.',
    default: undefined,
    defaultText: '`MUTT_DATA_DIR/alerts.jsonl`',
  }),
  CIRCUIT_BREAKER_THRESHOLD: int({
    group: G.forwarder,
    doc: 'Consecutive failures that open the Moogsoft circuit breaker.',
    default: 10,
    min: 1,
  }),
  CIRCUIT_BREAKER_INITIAL_TIMEOUT: float({
    group: G.forwarder,
    doc: 'Seconds the breaker stays open before its first half-open probe. Each probe that fails doubles the wait, up to CIRCUIT_BREAKER_TIMEOUT; a successful probe closes the breaker and resets it. Each wait is shortened by up to a quarter, so that probes do not fall into step with a Moogsoft that flaps at a regular period.',
    default: 2,
    min: 0,
    exclusiveMin: true,
    note: 'MUTT addition.',
  }),
  CIRCUIT_BREAKER_TIMEOUT: int({
    group: G.forwarder,
    doc: 'Longest wait between two half-open probes while Moogsoft stays down (the probes back off from CIRCUIT_BREAKER_INITIAL_TIMEOUT, doubling). It bounds how long delivery stays paused after Moogsoft recovers: one probe every 8 s is one request per 8 s to a Moogsoft that is down.',
    default: 8,
    min: 1,
    note: 'MUTT 2.x: one probe every 300 s, so delivery resumed up to five minutes after Moogsoft did. Python nodes sharing the breaker keep their own timeout; a MUTT probe that fails re-opens the breaker for them too.',
  }),

  // ── Remediation ──────────────────────────────────────────────────────────────────────────────
  DEAD_LETTER_QUEUE: key(
    G.remediation,
    'Final list for items remediation stopped replaying.',
    'mutt:dlq:dead',
  ),
  REMEDIATION_INTERVAL: int({
    group: G.remediation,
    doc: 'Seconds between DLQ replay passes.',
    default: 300,
    min: 1,
  }),
  REMEDIATION_BATCH_SIZE: int({
    group: G.remediation,
    doc: 'Items replayed per pass.',
    default: 100,
    min: 1,
  }),
  MAX_POISON_RETRIES: int({
    group: G.remediation,
    doc: 'Replays before an item goes to the dead list.',
    default: 3,
    min: 1,
  }),

  // ── Web UI ───────────────────────────────────────────────────────────────────────────────────
  SERVER_PORT_WEBUI: port({
    group: G.webui,
    doc: 'Admin UI and JSON API port. 0 disables it.',
    default: 8090,
    allowZero: true,
  }),
  WEBUI_API_KEY: secret({
    group: G.webui,
    doc: 'API key for the admin UI and API (`X-API-KEY` header or `?api_key=`). Generated on first start in `MUTT_DATA_DIR/secrets/webui_api_key` when it is set nowhere (and Vault is not used).',
  }),
  WEBUI_API_KEY_PREVIOUS: secret({
    group: G.webui,
    doc: 'A second accepted admin API key, for rotation without downtime: set the new key in WEBUI_API_KEY and the old one here, update the clients, then unset this.',
  }),
  WEBUI_TLS_CERT: path({
    group: G.webui,
    doc: 'PEM certificate (chain) for HTTPS on SERVER_PORT_WEBUI. With WEBUI_TLS_KEY it turns HTTPS on (TLS 1.2 or newer, forward-secret AEAD ciphers only); both files are read again on SIGHUP.',
    default: undefined,
    defaultText: 'plain HTTP',
  }),
  WEBUI_TLS_KEY: path({
    group: G.webui,
    doc: 'PEM private key of WEBUI_TLS_CERT (readable by the mutt user only).',
    default: undefined,
  }),
  METRICS_CACHE_TTL: int({
    group: G.webui,
    doc: 'Seconds the dashboard metrics are cached.',
    default: 5,
    min: 0,
  }),
  AUDIT_LOG_PAGE_SIZE: int({
    group: G.webui,
    doc: 'Default page size of the audit-log API.',
    default: 50,
    min: 1,
    max: 200,
  }),
  AUDIT_LOG_MAX_OFFSET: int({
    group: G.webui,
    doc: "Deepest row the audit-log API serves by offset (`page` × `limit`). An offset page reads and discards every row before it, so a deeper one is refused (400, naming `cursor`); cursor paging (`cursor=<next_cursor>`) reaches any depth at the cost of the first page. The same bound as a search engine's result window.",
    default: 10_000,
    min: 200,
    max: 10_000_000,
    note: 'MUTT 2.5 serves any `page`, at a cost that grows with its depth (seconds deep in millions of rows).',
  }),
  PROMETHEUS_URL: url({
    group: G.webui,
    doc: "Prometheus that scrapes this MUTT fleet. When set, the SLO report (`/api/v1/slo`, `mutt slo`) is computed from it; when unset, or when it does not answer, from MUTT's own request counters kept in Redis, which every node of the fleet shares. The report says which source it used.",
    default: undefined,
    note: 'MUTT 2.5 defaults to `http://localhost:9090` and has no other source; MUTT needs no Prometheus for its SLO report.',
    protocols: ['http:', 'https:'],
  }),
  SLO_WINDOW_HOURS: int({
    group: G.webui,
    doc: 'Window of the SLO report in hours (dynamic key `slo_window_hours`).',
    default: 24,
    min: 1,
    max: 720,
  }),
  SLO_INGEST_SUCCESS_TARGET: float({
    group: G.webui,
    doc: 'Availability objective of HTTP ingest: the share of requests not failed by MUTT (503 queue full or Redis unavailable, 500) (dynamic key `slo_ingest_success_target`).',
    default: 0.995,
    min: 0,
    exclusiveMin: true,
    max: 1,
    exclusiveMax: true,
  }),
  SLO_FORWARD_SUCCESS_TARGET: float({
    group: G.webui,
    doc: 'Availability objective of forwarding: the share of Moogsoft requests answered 2xx (dynamic key `slo_forward_success_target`).',
    default: 0.99,
    min: 0,
    exclusiveMin: true,
    max: 1,
    exclusiveMax: true,
  }),
} satisfies Record<string, VarSpec<unknown>>;

export type Schema = typeof schema;
export type Vars = Values<Schema>;
export type VarName = keyof Schema;

/** Variables MUTT itself reads before the schema (where to find the env file). */
export const META_VARS = ['MUTT_ENV_FILE'] as const;

/** Variables declared with `secret()` (a unit test keeps this list in step with the schema). */
export const SECRET_NAMES = [
  'REDIS_PASS',
  'REDIS_PASS_CURRENT',
  'REDIS_PASS_NEXT',
  'REDIS_SENTINEL_PASS',
  'DB_PASS',
  'DB_PASS_CURRENT',
  'DB_PASS_NEXT',
  'INGEST_API_KEY',
  'INGEST_API_KEY_PREVIOUS',
  'MOOG_API_KEY',
  'WEBUI_API_KEY',
  'WEBUI_API_KEY_PREVIOUS',
  'SNMP_COMMUNITIES',
] as const satisfies readonly VarName[];
export type SecretName = (typeof SECRET_NAMES)[number];
