// The secrets of one thread, as they are now. The configuration object is frozen at start-up; the
// values below change when Vault publishes a new version of the KV secret or a SIGHUP re-reads the
// secret files. The main thread owns the sources (SecretLayers) and posts every change to the worker
// threads, whose stores apply it (src/app/worker.ts). Consumers read through get() at the moment
// they need a value (a new connection, a request to check) or subscribe to onChange().
import { SECRET_NAMES, type SecretName } from '../config/schema.ts';
import { type SecretLayer, type SecretValues, mergeLayers, shadowWarning } from './local.ts';

export type { SecretValues };

type Listener = (changed: readonly SecretName[]) => void;

export class SecretStore {
  private values: SecretValues;
  private readonly listeners = new Set<Listener>();

  constructor(initial: SecretValues = {}) {
    this.values = pick(initial);
  }

  get(name: SecretName): string | undefined {
    return this.values[name];
  }

  /** A copy of every value (for a worker thread's start). */
  snapshot(): SecretValues {
    return { ...this.values };
  }

  /** Replaces every value; tells the listeners which names changed. Returns them. */
  replace(next: SecretValues): SecretName[] {
    const values = pick(next);
    const changed = SECRET_NAMES.filter((n) => values[n] !== this.values[n]);
    this.values = values;
    if (changed.length > 0) for (const l of this.listeners) l(changed);
    return changed;
  }

  /** Calls `fn` with the names that changed after each change; returns the unsubscribe function. */
  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

function pick(v: SecretValues): SecretValues {
  const out: SecretValues = {};
  for (const n of SECRET_NAMES) {
    const x = v[n];
    if (x !== undefined && x !== '') out[n] = x;
  }
  return out;
}

/**
 * The main thread's sources, one layer each (Vault, systemd credentials, files, environment), merged
 * by precedence into a store.
 */
export class SecretLayers {
  readonly store: SecretStore;
  private readonly layers: Partial<Record<SecretLayer, SecretValues>>;

  constructor(layers: Partial<Record<SecretLayer, SecretValues>>) {
    this.layers = { ...layers };
    this.store = new SecretStore(mergeLayers(this.layers).values);
  }

  /** Sets one layer; returns the names whose effective value changed. */
  set(layer: SecretLayer, values: SecretValues): SecretName[] {
    this.layers[layer] = values;
    return this.store.replace(mergeLayers(this.layers).values);
  }

  /** Sets several layers at once (a SIGHUP re-read of the local sources). */
  setMany(layers: Partial<Record<SecretLayer, SecretValues>>): SecretName[] {
    Object.assign(this.layers, layers);
    return this.store.replace(mergeLayers(this.layers).values);
  }

  source(name: SecretName): SecretLayer | undefined {
    return mergeLayers(this.layers).sources[name];
  }

  /** Warnings about secrets set in more than one source (names only). */
  shadowWarnings(): string[] {
    return mergeLayers(this.layers).shadowed.map(shadowWarning);
  }
}
