/** The logger as an operator reads it: readable lines on a terminal, JSON elsewhere, credentials redacted in both. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function capture(isTTY: boolean): { stream: PassThrough & { isTTY: boolean }; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (c) => (text += c));
  return { stream, text: () => text };
}

async function settled(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('logger', () => {
  it('writes readable lines when the destination is a terminal', async () => {
    const tty = capture(true);
    const log = createLogger('info', { destination: tty.stream, pretty: 'auto' });
    log.info({ tenant: 'acme', token: 'xoxb-123-secret' }, 'listening on :3000');
    await settled();
    const plain = tty.text().replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
    expect(plain).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: listening on :3000\n/);
    expect(plain).toContain('tenant: "acme"');
    expect(plain).not.toContain('xoxb-123-secret');
  });

  it('writes one JSON object per line otherwise', async () => {
    const pipe = capture(false);
    const log = createLogger('info', { destination: pipe.stream, pretty: 'auto' });
    log.info({ installation: { botToken: 'xoxb-456-secret' }, authorization: 'Bearer abc' }, 'installed');
    await settled();
    const line = JSON.parse(pipe.text());
    expect(line).toMatchObject({ level: 30, msg: 'installed', installation: { botToken: '[redacted]' }, authorization: '[redacted]' });
  });
});
