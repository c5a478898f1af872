import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPodName, didYouMean, editDistance, loadConfig } from './load.ts';
import { SECRET_NAMES, schema } from './schema.ts';

const NO_FILE = { defaultEnvFile: '/nonexistent/mutt.env' };
const load = (env: Record<string, string>) => loadConfig(env, NO_FILE);

describe('loadConfig', () => {
  it('applies every MUTT 2.x default', () => {
    const { config, problems } = load({});
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      SERVER_PORT_INGESTOR: 8080,
      MAX_INGEST_QUEUE_SIZE: 1_000_000,
      INGEST_QUEUE_NAME: 'mutt:ingest_queue',
      REQUIRED_MESSAGE_FIELDS: ['timestamp', 'message', 'hostname'],
      ALERTER_HEARTBEAT_INTERVAL: 10,
      ALERTER_JANITOR_TIMEOUT: 30,
      UNHANDLED_THRESHOLD: 100,
      UNHANDLED_DEFAULT_TEAM: 'NETO',
      MOOG_RATE_LIMIT: 50,
      MOOG_RETRY_MAX_DELAY: 60,
      DB_NAME: 'mutt_db',
      DB_USER: 'mutt_user',
      embeddedRedis: true,
      embeddedPostgres: true,
      roles: ['listeners', 'alerter', 'forwarder', 'remediation', 'webui'],
    });
  });

  it('returns a deep-frozen object', () => {
    const { config } = load({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config!.REQUIRED_MESSAGE_FIELDS)).toBe(true);
    expect(() => {
      (config as unknown as Record<string, unknown>).REDIS_PORT = 1;
    }).toThrow();
  });

  // Each row: environment → the exact problem lines.
  const bad: [string, Record<string, string>, string[]][] = [
    ['REDIS_PORT=abc', { REDIS_PORT: 'abc' }, ['REDIS_PORT="abc": expected a port from 1 to 65535']],
    [
      'SERVER_PORT_INGESTOR=99999',
      { SERVER_PORT_INGESTOR: '99999' },
      ['SERVER_PORT_INGESTOR="99999": expected a port from 1 to 65535, or 0 to disable'],
    ],
    [
      'unknown MUTT_ROLES entry',
      { MUTT_ROLES: 'listeners,alerter,bogus' },
      [
        'MUTT_ROLES="listeners,alerter,bogus": expected a comma-separated list of all, listeners, alerter, forwarder, remediation, webui (not valid: bogus)',
      ],
    ],
    [
      'boolean',
      { REDIS_TLS_ENABLED: 'maybe' },
      ['REDIS_TLS_ENABLED="maybe": expected true or false (also 1/0, yes/no, on/off)'],
    ],
    ['float', { MOOG_RATE_PERIOD: '0' }, ['MOOG_RATE_PERIOD="0": expected a number > 0']],
    [
      'enum',
      { LOG_LEVEL: 'LOUD' },
      ['LOG_LEVEL="LOUD": expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL'],
    ],
    [
      'url',
      { MOOG_WEBHOOK_URL: 'ftp://x' },
      ['MOOG_WEBHOOK_URL="ftp://x": expected a URL starting with http:// or https://'],
    ],
    ['pod name with a colon', { POD_NAME: 'a:b' }, ['POD_NAME="a:b": expected a name without ":" or spaces']],
    [
      'a secret value is never echoed',
      { REDIS_PASS: 'x', REDIS_PASS_FILE: '/nonexistent' },
      ['REDIS_PASS_FILE="/nonexistent": cannot read the file (ENOENT)'],
    ],
    [
      'unreadable secret file',
      { INGEST_API_KEY_FILE: '/nonexistent/key' },
      ['INGEST_API_KEY_FILE="/nonexistent/key": cannot read the file (ENOENT)'],
    ],
    [
      'REDIS_URL with REDIS_HOST',
      { REDIS_URL: 'redis://h:1', REDIS_HOST: 'h' },
      ['REDIS_URL and REDIS_HOST are both set: use one of them'],
    ],
    [
      'pool bounds',
      { DB_POOL_MIN_CONN: '20', DB_POOL_MAX_CONN: '5' },
      ['DB_POOL_MIN_CONN="20": expected at most DB_POOL_MAX_CONN (5)'],
    ],
    [
      'heartbeat outlives its TTL',
      { ALERTER_HEARTBEAT_INTERVAL: '30', ALERTER_JANITOR_TIMEOUT: '30' },
      [
        'ALERTER_JANITOR_TIMEOUT="30": expected more than ALERTER_HEARTBEAT_INTERVAL (30), or heartbeats expire between beats',
      ],
    ],
    [
      'two listeners on one port',
      { SERVER_PORT_WEBUI: '8080' },
      ['SERVER_PORT_WEBUI="8080": the same port as SERVER_PORT_INGESTOR'],
    ],
    [
      'Moogsoft authentication without a key',
      { MOOG_WEBHOOK_URL: 'https://moog.example/events', MOOG_AUTH_MODE: 'auth_token' },
      ['MOOG_AUTH_MODE="auth_token": needs MOOG_API_KEY (or MOOG_API_KEY_FILE)'],
    ],
    [
      'basic authentication without a user name',
      { MOOG_WEBHOOK_URL: 'https://moog.example/events', MOOG_AUTH_MODE: 'basic', MOOG_API_KEY: 'k' },
      ['MOOG_AUTH_MODE="basic": needs MOOG_USERNAME'],
    ],
    [
      'Moogsoft CA file missing',
      { MOOG_WEBHOOK_URL: 'https://moog.example/events', MOOG_CA_FILE: '/nonexistent/ca.pem' },
      ['MOOG_CA_FILE="/nonexistent/ca.pem": file not found'],
    ],
    [
      'a DB_HOST list with an empty member',
      { DB_HOST: 'pg1,,pg2' },
      [
        'DB_HOST="pg1,,pg2": an empty member (expected a host, an address, a socket directory, or a comma-separated list of host or host:port)',
      ],
    ],
    [
      'a DB_HOST member with a bad port',
      { DB_HOST: 'pg1:5432,pg2:99999' },
      [
        'DB_HOST="pg1:5432,pg2:99999": "pg2:99999": the port must be 1-65535 (expected a host, an address, a socket directory, or a comma-separated list of host or host:port)',
      ],
    ],
    [
      'replica acknowledgement with the embedded Redis',
      { REDIS_MIN_REPLICAS_ACK: '1' },
      [
        'REDIS_MIN_REPLICAS_ACK="1": the embedded Redis has no replicas, so nothing could be acknowledged; set REDIS_SENTINELS (or REDIS_HOST) to a Redis with replicas, or leave it at 0',
      ],
    ],
    [
      'alert-queue shed threshold below the alerter batch size',
      { ALERTER_QUEUE_SHED_THRESHOLD: '499' },
      [
        'ALERTER_QUEUE_SHED_THRESHOLD="499": expected at least ALERTER_BATCH_SIZE (500): one batch can add that many alerts, so a lower threshold defers or sheds after every batch',
      ],
    ],
    [
      'alert-queue shed threshold of 0',
      { ALERTER_QUEUE_SHED_THRESHOLD: '0', ALERTER_BATCH_SIZE: '100' },
      [
        'ALERTER_QUEUE_SHED_THRESHOLD="0": expected at least ALERTER_BATCH_SIZE (100); 0 would defer or shed every batch, whatever the alert queue holds',
      ],
    ],
    [
      'first breaker probe later than the longest wait between probes',
      { CIRCUIT_BREAKER_INITIAL_TIMEOUT: '30', CIRCUIT_BREAKER_TIMEOUT: '10' },
      [
        'CIRCUIT_BREAKER_INITIAL_TIMEOUT="30": expected at most CIRCUIT_BREAKER_TIMEOUT (10), the longest wait between probes',
      ],
    ],
    [
      'explicit env file missing',
      { MUTT_ENV_FILE: '/nonexistent/mutt.env' },
      ['MUTT_ENV_FILE="/nonexistent/mutt.env": cannot read the env file (ENOENT)'],
    ],
  ];
  for (const [name, env, problems] of bad) {
    it(`rejects ${name}`, () => {
      const r = load(env);
      expect(r.config).toBeUndefined();
      expect(r.problems).toEqual(problems);
    });
  }

  it('holds rather than sheds by default, with thresholds sized for MUTT, and a stable pod name', () => {
    const { config } = load({});
    expect(config).toMatchObject({
      ALERTER_SHED_MODE: 'defer',
      ALERTER_QUEUE_SHED_THRESHOLD: 100_000,
      ALERTER_QUEUE_WARN_THRESHOLD: 20_000,
      CIRCUIT_BREAKER_INITIAL_TIMEOUT: 2,
      CIRCUIT_BREAKER_TIMEOUT: 8,
      MOOG_RETRY_EXHAUSTED_MODE: 'retry',
      UNHANDLED_MAX_SIGNATURES: 1000,
    });
    // The same name for every process on this host (no PID in it).
    expect(config!.podName).toBe(defaultPodName());
    expect(load({}).config!.podName).toBe(config!.podName);
    expect(defaultPodName('core rtr:1')).toBe('core_rtr_1');
    expect(load({ POD_NAME: 'edge-a' }).config!.podName).toBe('edge-a');
  });

  it('accepts a shed threshold equal to the batch size, and warns when warning comes after shedding', () => {
    const r = load({ ALERTER_QUEUE_SHED_THRESHOLD: '500', ALERTER_QUEUE_WARN_THRESHOLD: '600' });
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([
      'ALERTER_QUEUE_WARN_THRESHOLD="600" is above ALERTER_QUEUE_SHED_THRESHOLD (500): the alerter defers or sheds before it warns',
    ]);
  });

  it('reports every problem at once', () => {
    const r = load({ REDIS_PORT: 'abc', SERVER_PORT_INGESTOR: '99999', MUTT_ROLES: 'bogus' });
    expect(r.problems.map((p) => p.split('=')[0])).toEqual([
      'MUTT_ROLES',
      'REDIS_PORT',
      'SERVER_PORT_INGESTOR',
    ]);
  });

  it('never puts a secret value in a problem', () => {
    const r = load({
      INGEST_API_KEY: 'super-secret',
      REDIS_PORT: 'abc',
      REDIS_PASS: 's3cret',
      REDIS_PASS_FILE: '/x',
    });
    expect(r.problems.join('\n')).not.toMatch(/super-secret|s3cret/);
  });

  it('takes a secret by precedence: systemd credential, then <NAME>_FILE, then <NAME>; warns naming the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-cfg-'));
    const creds = join(dir, 'credentials');
    mkdirSync(creds);
    writeFileSync(join(creds, 'DB_PASS'), 'from-credential\n');
    writeFileSync(join(creds, 'MOOG_API_KEY'), 'moog-from-credential');
    writeFileSync(join(dir, 'db_pass'), 'from-file\n', { mode: 0o600 });
    writeFileSync(join(dir, 'redis_pass'), 'redis-from-file\n', { mode: 0o600 });
    const r = load({
      CREDENTIALS_DIRECTORY: creds,
      DB_PASS_FILE: join(dir, 'db_pass'),
      DB_PASS: 'from-env',
      REDIS_PASS_FILE: join(dir, 'redis_pass'),
      REDIS_PASS: 'redis-from-env',
      INGEST_API_KEY: 'ingest-from-env',
    });
    expect(r.problems).toEqual([]);
    expect(r.config).toMatchObject({
      DB_PASS: 'from-credential',
      MOOG_API_KEY: 'moog-from-credential',
      REDIS_PASS: 'redis-from-file',
      INGEST_API_KEY: 'ingest-from-env',
      credentialsDir: creds,
    });
    expect(r.config?.sources).toMatchObject({
      DB_PASS: 'credential',
      MOOG_API_KEY: 'credential',
      REDIS_PASS: 'file',
      INGEST_API_KEY: 'environment',
    });
    expect(r.warnings).toEqual([
      'REDIS_PASS is set in REDIS_PASS_FILE and in REDIS_PASS: the value from REDIS_PASS_FILE is used (precedence: Vault, systemd credential, <NAME>_FILE, <NAME>)',
      'DB_PASS is set in the systemd credential DB_PASS and in DB_PASS_FILE and in DB_PASS: the value from the systemd credential DB_PASS is used (precedence: Vault, systemd credential, <NAME>_FILE, <NAME>)',
    ]);
    expect([...r.warnings, ...r.problems].join('\n')).not.toMatch(/from-env|from-file|redis-from/);
  });

  it('an empty systemd credential is a problem naming it', () => {
    const creds = mkdtempSync(join(tmpdir(), 'mutt-cred-'));
    writeFileSync(join(creds, 'WEBUI_API_KEY'), '');
    expect(load({ CREDENTIALS_DIRECTORY: creds }).problems).toEqual([
      `systemd credential WEBUI_API_KEY (${join(creds, 'WEBUI_API_KEY')}): the file is empty`,
    ]);
  });

  it('reads secrets from <NAME>_FILE, without the trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-cfg-'));
    writeFileSync(join(dir, 'key'), 'abc123\n');
    const r = load({ INGEST_API_KEY_FILE: join(dir, 'key') });
    expect(r.config?.INGEST_API_KEY).toBe('abc123');
    expect(r.config?.sources.INGEST_API_KEY).toBe('file');
  });

  it('reads the env file under the process environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-cfg-'));
    const file = join(dir, 'mutt.env');
    writeFileSync(file, '# MUTT\nREDIS_HOST=redis.example\nREDIS_PORT=6380\nDB_HOST="db.example"\n');
    const r = loadConfig({ MUTT_ENV_FILE: file, REDIS_PORT: '7000' });
    expect(r.problems).toEqual([]);
    expect(r.config).toMatchObject({ REDIS_HOST: 'redis.example', REDIS_PORT: 7000, DB_HOST: 'db.example' });
    expect(r.config?.sources.REDIS_HOST).toBe('env file');
    expect(r.config?.sources.REDIS_PORT).toBe('environment');
    expect(r.config?.embeddedRedis).toBe(false);
    expect(r.config?.envFile).toBe(file);
  });

  it('uses the default env file only when it exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-cfg-'));
    const file = join(dir, 'mutt.env');
    writeFileSync(file, 'UNHANDLED_THRESHOLD=5\n');
    expect(loadConfig({}, { defaultEnvFile: file }).config?.UNHANDLED_THRESHOLD).toBe(5);
    expect(loadConfig({}, { defaultEnvFile: join(dir, 'absent') }).problems).toEqual([]);
  });

  it('treats an empty value as unset', () => {
    expect(load({ REDIS_PORT: '' }).config?.REDIS_PORT).toBe(6379);
  });

  it('warns about unknown MUTT_* variables in the environment, with the closest name', () => {
    const r = load({ MUTT_ROLSE: 'listeners', MUTT_FROBNICATE: '1', UNRELATED: 'x' });
    expect(r.warnings).toEqual([
      'MUTT_ROLSE: unknown variable (ignored); did you mean MUTT_ROLES?',
      'MUTT_FROBNICATE: unknown variable (ignored)',
    ]);
    expect(r.config).toBeDefined();
  });

  // Bad input: every name in the env file must be known, or the unit does not start.
  it.each([
    [
      'a misspelled name',
      'REDIS_HOTS=redis.example\n',
      'REDIS_HOTS: unknown variable; did you mean REDIS_HOST?',
    ],
    [
      'swapped letters',
      'SYSLGO_UDP_PORT=5514\n',
      'SYSLGO_UDP_PORT: unknown variable; did you mean SYSLOG_UDP_PORT?',
    ],
    ['lower case', 'log_level=DEBUG\n', 'log_level: unknown variable; did you mean LOG_LEVEL?'],
    [
      'a _FILE typo',
      'INGEST_API_KEY_FIEL=/x\n',
      'INGEST_API_KEY_FIEL: unknown variable; did you mean INGEST_API_KEY_FILE?',
    ],
    ['nothing close', 'FROBNICATE=1\n', 'FROBNICATE: unknown variable'],
  ])('names an unknown variable in the env file (%s)', (_what, text, expected) => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-cfg-'));
    const file = join(dir, 'mutt.env');
    writeFileSync(file, `# MUTT\n${text}`);
    const r = loadConfig({ MUTT_ENV_FILE: file });
    expect(r.config).toBeUndefined();
    expect(r.problems).toEqual([`${file}: ${expected}`]);
  });

  it('lets Node.js and C library variables through the env file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-cfg-'));
    const file = join(dir, 'mutt.env');
    writeFileSync(
      file,
      'NODE_OPTIONS=--max-old-space-size=2048\nTZ=UTC\nLC_ALL=C.UTF-8\nUV_THREADPOOL_SIZE=8\n',
    );
    expect(loadConfig({ MUTT_ENV_FILE: file }).problems).toEqual([]);
  });

  it('warns when a world-readable env file holds a secret, naming the file and the chmod', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-cfg-'));
    const file = join(dir, 'mutt.env');
    writeFileSync(file, 'INGEST_API_KEY=s3cret-value\n');
    chmodSync(file, 0o644);
    const r = loadConfig({ MUTT_ENV_FILE: file });
    expect(r.config).toBeDefined();
    expect(r.warnings).toEqual([
      `${file} is readable by every user of this host (mode 0644) and holds INGEST_API_KEY: run "chmod o-rwx ${file}" (the package installs it as 0640 root:mutt)`,
    ]);
    expect(r.warnings.join('')).not.toContain('s3cret');
    chmodSync(file, 0o640);
    expect(loadConfig({ MUTT_ENV_FILE: file }).warnings).toEqual([]);
    // A world-readable file without secrets is no concern.
    writeFileSync(file, 'LOG_LEVEL=DEBUG\n');
    chmodSync(file, 0o644);
    expect(loadConfig({ MUTT_ENV_FILE: file }).warnings).toEqual([]);
  });

  it('warns when a world-readable <NAME>_FILE holds a secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-cfg-'));
    writeFileSync(join(dir, 'key'), 'abc123\n');
    chmodSync(join(dir, 'key'), 0o604);
    const r = load({ INGEST_API_KEY_FILE: join(dir, 'key') });
    expect(r.warnings).toEqual([
      `${join(dir, 'key')} is readable by every user of this host (mode 0604) and holds INGEST_API_KEY: run "chmod o-rwx ${join(dir, 'key')}" (the package installs it as 0640 root:mutt)`,
    ]);
  });

  it('finds the closest name by edit distance', () => {
    expect(editDistance('REDIS_HOTS', 'REDIS_HOST')).toBe(1);
    expect(editDistance('', 'AB')).toBe(2);
    expect(didYouMean('SERVER_PORT_INGESTER', ['SERVER_PORT_INGESTOR', 'SERVER_PORT_WEBUI'])).toBe(
      '; did you mean SERVER_PORT_INGESTOR?',
    );
    expect(didYouMean('XYZ', ['SERVER_PORT_INGESTOR'])).toBe('');
  });

  it('expands roles', () => {
    expect(load({ MUTT_ROLES: 'webui, listeners' }).config?.roles).toEqual(['listeners', 'webui']);
  });

  it('is external when REDIS_HOST, REDIS_URL or REDIS_SENTINELS is set', () => {
    expect(load({ REDIS_HOST: 'r' }).config?.embeddedRedis).toBe(false);
    expect(load({ REDIS_URL: 'redis://r:1' }).config?.embeddedRedis).toBe(false);
    expect(load({ REDIS_SENTINELS: 'a:26379,b:26379' }).config?.embeddedRedis).toBe(false);
    expect(load({ DB_HOST: 'd' }).config?.embeddedPostgres).toBe(false);
  });

  it('derives the data directory from the user', () => {
    expect(loadConfig({}, { ...NO_FILE, uid: 0 }).config?.dataDir).toBe('/var/lib/mutt');
    expect(loadConfig({ XDG_STATE_HOME: '/state' }, { ...NO_FILE, uid: 1000 }).config?.dataDir).toBe(
      '/state/mutt',
    );
    // systemd's StateDirectory=mutt, for the unit's mutt user.
    expect(loadConfig({ STATE_DIRECTORY: '/var/lib/mutt' }, { ...NO_FILE, uid: 990 }).config?.dataDir).toBe(
      '/var/lib/mutt',
    );
  });

  it('lists exactly the secret variables of the schema', () => {
    const declared = Object.entries(schema)
      .filter(([, s]) => (s as { secret?: boolean }).secret)
      .map(([n]) => n)
      .sort();
    expect([...SECRET_NAMES].sort()).toEqual(declared);
  });
});
