// Keys of a queued item that look like credentials: Python MUTT copies the Moogsoft key into every
// alert it queues, so MUTT strips such keys when it sends an alert or replays a dead-lettered item.
const SECRET_KEY = /api[-_]?key|auth[-_]?token|^authorization$|password|passwd|secret/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}
