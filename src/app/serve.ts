// `mutt serve`: runs the daemon until SIGTERM/SIGINT; SIGHUP reloads.
import { loadConfigOrExit } from '../cli/context.ts';
import { EXIT_CONFIG } from '../runtime/config/load.ts';
import { StartupError } from '../runtime/listen.ts';
import { createLogger } from '../runtime/logging.ts';
import { sdNotify } from '../runtime/notify.ts';
import { MissingBinariesError } from '../runtime/services/binaries.ts';
import { Daemon, type DaemonInfo } from './daemon.ts';

/** sysexits.h EX_UNAVAILABLE: a required program is missing. */
const EXIT_UNAVAILABLE = 69;
/** sysexits.h EX_SOFTWARE: an internal error. */
const EXIT_SOFTWARE = 70;

export async function serveCommand(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.LOG_LEVEL, pod: config.podName, format: config.LOG_FORMAT });
  const daemon = new Daemon(config, log);
  // After start-up (Redis refused MUTT at first, and another process took the node name meanwhile).
  daemon.onFatal = (err) => {
    const code = err instanceof StartupError ? err.exitCode : EXIT_SOFTWARE;
    if (err instanceof StartupError) process.stderr.write(`mutt: ${err.message}\n`);
    log.fatal({ err: err instanceof StartupError ? err.message : err }, 'start-up failed');
    void daemon.stop('start-up failed').finally(() => process.exit(code));
  };

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    void sdNotify({ STOPPING: '1', STATUS: `stopping (${signal}): draining` });
    void daemon.stop(signal).then(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGHUP', () => daemon.reload());
  const crash = (kind: string) => (err: unknown) => {
    log.fatal({ err }, `${kind}: stopping`);
    void daemon.stop(kind).finally(() => process.exit(EXIT_SOFTWARE));
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled promise rejection'));

  try {
    const info = await daemon.start();
    // Type=notify: systemctl start returns now that MUTT receives events.
    const n = await sdNotify({ READY: '1', STATUS: readyStatus(info) });
    if (n.error) log.warn({ err: n.error }, 'could not tell systemd that MUTT is ready');
  } catch (err) {
    if (daemon.isStopping) return; // stopped while starting (SIGTERM while waiting for Redis)
    if (err instanceof MissingBinariesError) {
      process.stderr.write(`mutt: ${err.message}\n`);
      log.fatal(err.message);
      await daemon.stop('start-up failed');
      process.exit(EXIT_UNAVAILABLE);
    }
    const code = err instanceof StartupError ? err.exitCode : EXIT_SOFTWARE;
    if (err instanceof StartupError) process.stderr.write(`mutt: ${err.message}\n`);
    log.fatal({ err: err instanceof StartupError ? err.message : err }, 'start-up failed');
    await daemon.stop('start-up failed');
    process.exit(code === EXIT_CONFIG ? EXIT_CONFIG : code);
  }
}

/** `systemctl status` line: what MUTT receives on which ports. */
export function readyStatus(info: DaemonInfo): string {
  const parts = Object.entries(info)
    .filter(([k, v]) => /port/i.test(k) && typeof v === 'number' && v > 0)
    .map(
      ([k, v]) =>
        `${k
          .replace(/Port$/, '')
          .replace(/([a-z])([A-Z])/g, '$1 $2')
          .toLowerCase()} ${String(v)}`,
    );
  return parts.length > 0 ? `running: ${parts.join(', ')}` : 'running';
}
