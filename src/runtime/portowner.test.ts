import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describePortOwner, findPortOwners, socketInodes } from './portowner.ts';

describe('findPortOwners', () => {
  it('finds the process holding a UDP port and a listening TCP port', async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    try {
      const uport = udp.address().port;
      const tport = (tcp.address() as { port: number }).port;
      expect(socketInodes(uport, 'udp').size).toBe(1);
      expect(findPortOwners(uport, 'udp')).toContainEqual(expect.objectContaining({ pid: process.pid }));
      expect(findPortOwners(tport, 'tcp')).toContainEqual(expect.objectContaining({ pid: process.pid }));
      expect(describePortOwner(uport, 'udp')).toMatch(new RegExp(`^held by .+ \\(pid ${process.pid}\\)$`));
    } finally {
      udp.close();
      tcp.close();
    }
  });

  it('says how to look when nobody visible holds the port', () => {
    expect(findPortOwners(1, 'udp')).toEqual([]);
    expect(describePortOwner(1, 'udp')).toBe(
      `another process holds it (find it with "ss -lunp 'sport = :1'")`,
    );
  });
});
