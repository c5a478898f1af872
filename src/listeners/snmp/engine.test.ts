import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAuthoritative, engineFile, EngineTimes, MAX_BOOTS, startEngine } from './engine.ts';

describe('engine identity', () => {
  it('generates an engine ID once and counts boots across starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-engine-'));
    const a = startEngine(dir);
    expect(a.created).toBe(true);
    expect(a.boots).toBe(1);
    expect(a.engineId.subarray(0, 5).toString('hex')).toBe('8000b98380');
    expect(a.engineId).toHaveLength(17);
    const b = startEngine(dir);
    expect(b.engineId.equals(a.engineId)).toBe(true);
    expect(b.boots).toBe(2);
    expect(b.created).toBe(false);
    expect(statSync(engineFile(dir)).mode & 0o777).toBe(0o640);
  });

  it('uses SNMP_ENGINE_ID and starts its boots again when the ID changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-engine-'));
    startEngine(dir);
    startEngine(dir);
    const c = startEngine(dir, '0x8000B98380AABBCCDD');
    expect(c.engineId.toString('hex')).toBe('8000b98380aabbccdd');
    expect(c.boots).toBe(1);
    expect(startEngine(dir, '8000B98380AABBCCDD').boots).toBe(2);
    expect(JSON.parse(readFileSync(engineFile(dir), 'utf8'))).toEqual({
      engine_id: '8000b98380aabbccdd',
      boots: 2,
    });
  });

  it('latches boots at the maximum and refuses a corrupt file with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-engine-'));
    const first = startEngine(dir);
    writeFileSync(
      engineFile(dir),
      JSON.stringify({ engine_id: first.engineId.toString('hex'), boots: MAX_BOOTS }),
    );
    expect(startEngine(dir).boots).toBe(MAX_BOOTS);
    writeFileSync(engineFile(dir), '{not json');
    expect(() => startEngine(dir)).toThrow(/engine\.json: cannot read the SNMP engine identity/);
  });
});

describe('timeliness', () => {
  it.each([
    [{ boots: 5, time: 100 }, 'ok'],
    [{ boots: 5, time: 250 }, 'ok'],
    [{ boots: 5, time: 251 }, 'not_in_time_window'],
    [{ boots: 4, time: 100 }, 'not_in_time_window'],
    [{ boots: 6, time: 100 }, 'not_in_time_window'],
  ] as const)('authoritative (ours: boots 5, time 100) %o → %s', (msg, verdict) => {
    expect(checkAuthoritative({ boots: 5, time: 100 }, msg)).toBe(verdict);
  });

  it('follows each sending engine and rejects replays (RFC 3414 §3.2 step 7b)', () => {
    let now = 0;
    const t = new EngineTimes(100, () => now);
    const e = Buffer.from('8000000001020304', 'hex');
    expect(t.check(e, 3, 1000)).toBe('ok'); // first message: learned
    now = 10_000; // our notion of its clock: 1010
    expect(t.check(e, 3, 1005)).toBe('ok'); // newer than the latest: notion moves to 1005
    expect(t.check(e, 3, 855)).toBe('ok'); // exactly 150 s behind: still inside the window
    expect(t.check(e, 3, 854)).toBe('not_in_time_window'); // a replay from more than 150 s ago
    now = 400_000; // 390 s later: notion 1395
    expect(t.check(e, 3, 1005)).toBe('not_in_time_window'); // the message seen at 10 s, replayed
    expect(t.check(e, 2, 5000)).toBe('not_in_time_window'); // an earlier boot
    expect(t.check(e, 4, 1)).toBe('ok'); // the sender rebooted
    expect(t.check(e, 3, 1400)).toBe('not_in_time_window'); // and its previous life is over
    expect(t.check(Buffer.from('8000000001020305', 'hex'), 0, 0)).toBe('ok'); // no clock to check
  });

  it('keeps a bounded number of engines', () => {
    const t = new EngineTimes(100, () => 0);
    for (let i = 0; i < 1000; i++)
      expect(t.check(Buffer.from(`80000000${i.toString(16).padStart(8, '0')}`, 'hex'), 1, 10)).toBe('ok');
    expect(t.size).toBe(100);
  });
});
