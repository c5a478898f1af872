// Keys of a queued item that look like credentials: Python MUTT copies the Moogsoft key into every
// alert it queues, so MUTT strips such keys when it sends an alert or replays a dead-lettered item.
const SECRET_KEY = /api[-_]?key|auth[-_]?token|^authorization$|password|passwd|secret/i;

// Every alert's keys are tested, and they are nearly always the same dozen: the answers are
// remembered (a bounded memo, emptied when it fills).
const known = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  let secret = known.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (known.size >= 1024) known.clear();
    known.set(key, secret);
  }
  return secret;
}
