/**
 * SlackReplySink and file downloads through the real WebClient against the fake Slack Web API.
 */
import { ErrorCode } from '../src/ports/errors.js';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { SlackReplySink, StreamingPolicy, type SlackReplyTarget } from '../adapters/slack/reply-sink.js';
import { inboundFiles } from '../adapters/slack/inbound.js';
import { startFakeSlack, type FakeSlack, type FakeWorkspace } from './fakes/slack-api.js';

let slack: FakeSlack;
let ws: FakeWorkspace;
let other: FakeWorkspace;
const logger = createLogger('silent');

beforeAll(async () => {
  slack = await startFakeSlack();
  ws = slack.addWorkspace({ teamId: 'T1', teamName: 'One', botUserId: 'UB1', botId: 'BB1', botToken: 'xoxb-one', installerUserId: 'UI1', code: 'c1' });
  other = slack.addWorkspace({ teamId: 'T2', teamName: 'Two', botUserId: 'UB2', botId: 'BB2', botToken: 'xoxb-two', installerUserId: 'UI2', code: 'c2' });
});

afterAll(async () => {
  await slack?.close();
});

function sink(target: Partial<SlackReplyTarget>, o: { streaming?: StreamingPolicy; limit?: number; token?: string } = {}) {
  const token = o.token ?? ws.botToken;
  return new SlackReplySink({
    client: new WebClient(token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
    progressClient: new WebClient(token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }),
    target: { channel: 'C1', threadTs: '10.000001', userId: 'UASK', teamId: 'T1', isDirect: false, ...target },
    streaming: o.streaming ?? new StreamingPolicy(true),
    workspace: 'T1',
    logger,
    maxMessageChars: o.limit ?? 200,
  });
}

const paragraph = (i: number) => `Paragraph ${i}: ` + 'lorem ipsum dolor sit amet '.repeat(4).trim() + '.';

describe('SlackReplySink', () => {
  it('streams natively to the asker and splits a long answer into thread replies', async () => {
    const s = sink({ threadTs: '20.000001' });
    await s.start();
    expect(slack.callsOf('chat.startStream').at(-1)!.args).toMatchObject({ channel: 'C1', thread_ts: '20.000001', recipient_user_id: 'UASK', recipient_team_id: 'T1' });
    const full = Array.from({ length: 8 }, (_, i) => paragraph(i)).join('\n\n');
    await s.update(full.slice(0, 60));
    await s.update(full.slice(0, 150));
    await s.finish(full);
    const msgs = slack.botMessages(ws.botToken).filter((m) => m.threadTs === '20.000001');
    expect(msgs.length).toBeGreaterThan(2);
    expect(msgs[0]!.ts).toBe(s.messageTs);
    expect(msgs[0]!.streaming).toBe(false);
    for (const m of msgs) expect(m.text.length).toBeLessThanOrEqual(200);
    // Nothing lost or duplicated across the parts.
    expect(msgs.map((m) => m.text).join(' ').replace(/\s+/g, ' ')).toBe(full.replace(/\s+/g, ' '));
  });

  it('falls back to a placeholder + chat.update when the method is unknown, converting Markdown', async () => {
    slack.streamBehaviour = 'unknown_method';
    const policy = new StreamingPolicy(true);
    try {
      const s = sink({ threadTs: '30.000001' }, { streaming: policy });
      await s.start();
      const [placeholder] = slack.botMessages(ws.botToken).filter((m) => m.threadTs === '30.000001');
      expect(placeholder!.text).toMatch(/Thinking/);
      await s.update('# Title\nsome **bold**');
      expect(placeholder!.text).toBe('*Title*\nsome *bold* …');
      await s.finish('# Title\nsome **bold** and [a link](https://x.test)');
      expect(placeholder!.text).toBe('*Title*\nsome *bold* and <https://x.test|a link>');
      expect(policy.allowed('T1')).toBe(false);
    } finally {
      slack.streamBehaviour = 'ok';
    }
  });

  it('turns the placeholder into the error text on failure', async () => {
    const s = sink({ threadTs: null, channel: 'D1', isDirect: true });
    await s.start();
    await s.update('partial answer');
    await s.finish('Sorry, the model is unavailable.', { kind: 'error' });
    const [m] = slack.botMessages(ws.botToken).filter((x) => x.channel === 'D1');
    expect(m!.text).toBe('Sorry, the model is unavailable.');
    expect(slack.callsOf('chat.startStream').some((c) => c.args.channel === 'D1')).toBe(false);
  });

  it('replaces a streamed partial answer when the final text does not extend it', async () => {
    const s = sink({ threadTs: '40.000001' });
    await s.start();
    await s.update('The answer is');
    await s.finish('Something went wrong.', { kind: 'error' });
    const [m] = slack.botMessages(ws.botToken).filter((x) => x.threadTs === '40.000001');
    expect(m!.text).toBe('Something went wrong.');
  });

  it("renders the core's own Markdown notices as mrkdwn, like answers", async () => {
    const s = sink({ threadTs: '60.000001' }, { streaming: new StreamingPolicy(false) });
    await s.finish('Persona **pirate** saved. Try `persona use <name>`.', { kind: 'notice' });
    const [m] = slack.botMessages(ws.botToken).filter((x) => x.threadTs === '60.000001');
    expect(m!.text).toBe('Persona *pirate* saved. Try `persona use &lt;name&gt;`.');
  });

  it('takes a public placeholder down when the answer is ephemeral', async () => {
    const s = sink({ threadTs: '50.000001' }, { streaming: new StreamingPolicy(false) });
    await s.start();
    await s.finish('Only admins can do that.', { ephemeral: true, kind: 'notice' });
    expect(slack.messages.find((m) => m.threadTs === '50.000001')!.deleted).toBe(true);
    expect(slack.callsOf('chat.postEphemeral').at(-1)!.args).toMatchObject({ channel: 'C1', user: 'UASK', text: 'Only admins can do that.' });
  });
});

describe('Slack files', () => {
  it('downloads with the workspace bot token, via files.info when the event has no link', async () => {
    slack.addFile({ id: 'F1', teamId: 'T1', name: 'handbook.md', mimetype: 'text/markdown', data: Buffer.from('# Handbook\nbe kind') });
    const client = new WebClient(ws.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    const [withLink] = inboundFiles(client, ws.botToken, [slack.fileObject(slack.addFile({ id: 'F2', teamId: 'T1', name: 'a.txt', mimetype: 'text/plain', data: Buffer.from('alpha') }))], slack.apiUrl);
    expect((await withLink!.read()).toString()).toBe('alpha');
    const [idOnly] = inboundFiles(client, ws.botToken, [{ id: 'F1', name: 'handbook.md', mimetype: 'text/markdown', size: 18 }], slack.apiUrl);
    expect(idOnly).toMatchObject({ filename: 'handbook.md', mimeType: 'text/markdown', size: 18 });
    expect((await idOnly!.read()).toString()).toBe('# Handbook\nbe kind');
    expect(slack.callsOf('files.download').map((c) => c.token)).toEqual(['xoxb-one', 'xoxb-one']);
  });

  it("cannot read another workspace's file and never sends the token to a foreign host", async () => {
    const client = new WebClient(other.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    const [f] = inboundFiles(client, other.botToken, [slack.fileObject({ id: 'F1', teamId: 'T1', name: 'x', mimetype: 'text/plain', data: Buffer.alloc(0) })], slack.apiUrl);
    await expect(f!.read()).rejects.toMatchObject({ code: ErrorCode.FileDownloadFailed, message: expect.stringMatching(/403/) });
    const [evil] = inboundFiles(client, other.botToken, [{ name: 'x', url_private_download: 'https://attacker.test/steal' }], slack.apiUrl);
    await expect(evil!.read()).rejects.toMatchObject({ code: ErrorCode.FileForeignHost, expected: true });
  });
});
