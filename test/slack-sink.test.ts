/**
 * SlackReplySink (driven by the core's ReplyStream) and file downloads, through the real
 * WebClient against the fake Slack Web API. The ReplySink contract runs on every way Slack
 * replies: native streaming, the chat.update fallback, and a slash command's response_url.
 */
import { ErrorCode } from '../src/ports/errors.js';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { ReplyStream } from '../src/core/reply/stream.js';
import { SlackReplySink, type SlackReplySinkOptions, type SlackReplyTarget } from '../adapters/slack/reply-sink.js';
import { StreamingPolicy } from '../adapters/slack/feature-policy.js';
import { inboundFiles } from '../adapters/slack/inbound.js';
import { startFakeSlack, type FakeSlack, type FakeWorkspace } from './fakes/slack-api.js';
import { replySinkContract, type ReplySinkHarness } from './contracts/reply-sink.js';

let slack: FakeSlack;
let ws: FakeWorkspace;
let other: FakeWorkspace;
const logger = createLogger('silent');
let seq = 0;

beforeAll(async () => {
  slack = await startFakeSlack();
  ws = slack.addWorkspace({ teamId: 'T1', teamName: 'One', botUserId: 'UB1', botId: 'BB1', botToken: 'xoxb-one', installerUserId: 'UI1', code: 'c1' });
  other = slack.addWorkspace({ teamId: 'T2', teamName: 'Two', botUserId: 'UB2', botId: 'BB2', botToken: 'xoxb-two', installerUserId: 'UI2', code: 'c2' });
});

afterAll(async () => {
  await slack?.close();
});

type SinkOptions = Partial<Pick<SlackReplySinkOptions, 'streaming' | 'respond' | 'lazy'>> & { limit?: number };

function sink(target: Partial<SlackReplyTarget>, o: SinkOptions = {}) {
  return new SlackReplySink({
    client: new WebClient(ws.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
    progressClient: new WebClient(ws.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }),
    target: { channel: 'C1', threadTs: '10.000001', userId: 'UASK', teamId: 'T1', isDirect: false, ...target },
    streaming: o.streaming ?? new StreamingPolicy(true),
    workspace: 'T1',
    logger,
    maxMessageChars: o.limit ?? 300,
    minUpdateIntervalMs: 20,
    ...(o.respond ? { respond: o.respond } : {}),
    ...(o.lazy ? { lazy: o.lazy } : {}),
  });
}

/** Bolt's respond(): a JSON POST to the slash command's response_url. */
const responder = (id: string) => async (message: Record<string, unknown>) => {
  const res = await fetch(slack.responseUrl(id), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
};

/** What the asker sees in one channel (and thread): bot messages and response_url posts, ephemeral ones apart. */
function seenIn(channel: string, thread: string | null, responseId?: string) {
  const responses = () => slack.responses.filter((r) => r.id === responseId).map((r) => r.body);
  return {
    public: [
      ...slack.botMessages(ws.botToken).filter((m) => m.channel === channel && (thread === null || m.threadTs === thread)).map((m) => m.text),
      ...responses().filter((b) => b.response_type === 'in_channel').map((b) => String(b.text)),
    ],
    private: [
      ...slack.callsOf('chat.postEphemeral').filter((c) => c.status === 200 && c.args.channel === channel && c.args.user === 'UASK').map((c) => String(c.args.text)),
      ...responses().filter((b) => b.response_type === 'ephemeral').map((b) => String(b.text)),
    ],
  };
}

/** A mention in a channel thread: the reply goes into that thread. */
function threadReply(streaming: boolean): () => Promise<ReplySinkHarness> {
  return async () => {
    const n = ++seq;
    const channel = `CT${n}`;
    const thread = `${100 + n}.000001`;
    return { sink: sink({ channel, threadTs: thread }, { streaming: new StreamingPolicy(streaming) }), seen: () => seenIn(channel, thread) };
  };
}

/** A slash command: lazy, with a response_url; optionally in a channel the bot is not in. */
function slashCommand(botInChannel: boolean): () => Promise<ReplySinkHarness> {
  return async () => {
    const n = ++seq;
    const channel = `CS${n}`;
    if (!botInChannel) slack.notInChannel.add(channel);
    const id = `resp-${n}`;
    return { sink: sink({ channel, threadTs: null }, { lazy: true, respond: responder(id) }), seen: () => seenIn(channel, null, id) };
  };
}

replySinkContract({ name: 'Slack, native streaming', create: threadReply(true), privateNotices: true, retractable: true });
replySinkContract({ name: 'Slack, chat.update', create: threadReply(false), privateNotices: true, retractable: true });
replySinkContract({ name: 'Slack, slash command', create: slashCommand(true), privateNotices: true, retractable: true });
replySinkContract({ name: 'Slack, slash command where the bot is not a member', create: slashCommand(false), privateNotices: true, retractable: true });

describe('SlackReplySink', () => {
  it('streams natively to the asker, in the thread', async () => {
    const s = sink({ threadTs: '20.000001' });
    const reply = new ReplyStream(s);
    await reply.start();
    expect(slack.callsOf('chat.startStream').at(-1)!.args).toMatchObject({ channel: 'C1', thread_ts: '20.000001', recipient_user_id: 'UASK', recipient_team_id: 'T1' });
    reply.update('The answer');
    await new Promise((r) => setTimeout(r, 60));
    await reply.finish('The answer is **42**.');
    const [m] = slack.botMessages(ws.botToken).filter((x) => x.threadTs === '20.000001');
    expect(m).toMatchObject({ ts: s.messageTs, streaming: false, text: 'The answer is **42**.' });
    expect(slack.callsOf('chat.appendStream').filter((c) => c.args.ts === m!.ts).map((c) => c.args.markdown_text)).toEqual(['The answer']);
    expect(slack.callsOf('chat.stopStream').at(-1)!.args.chunks).toEqual(expect.stringContaining('"status":"complete"'));
  });

  it('rolls a stream over when it fills: text past the cut moves to the next message', async () => {
    const reply = new ReplyStream(sink({ threadTs: '25.000001' }, { limit: 100 }));
    await reply.start();
    const first = 'alpha '.repeat(10).trim();
    const text = `${first}\n\n${'beta '.repeat(20).trim()}`;
    reply.update(text.slice(0, 95));
    await new Promise((r) => setTimeout(r, 60));
    reply.update(text);
    await new Promise((r) => setTimeout(r, 60));
    await reply.finish(text);
    const messages = slack.botMessages(ws.botToken).filter((m) => m.threadTs === '25.000001');
    // The stream had shown more than its final piece: it was stopped and its text replaced.
    expect(messages.map((m) => m.text)).toEqual([first, 'beta '.repeat(20).trim()]);
    expect(messages[0]!.streaming).toBe(false);
  });

  it('falls back to a placeholder edited with chat.update when the method is unknown, converting Markdown', async () => {
    slack.streamBehaviour = 'unknown_method';
    const policy = new StreamingPolicy(true);
    try {
      const reply = new ReplyStream(sink({ threadTs: '30.000001' }, { streaming: policy }));
      await reply.start();
      const [placeholder] = slack.botMessages(ws.botToken).filter((m) => m.threadTs === '30.000001');
      expect(placeholder!.text).toMatch(/Thinking/);
      reply.update('# Title\nsome **bold**');
      await new Promise((r) => setTimeout(r, 60));
      // A progress edit is marked as unfinished; the final edit is not.
      expect(placeholder!.text).toBe('*Title*\nsome *bold* …');
      await reply.finish('# Title\nsome **bold** and [a link](https://x.test)');
      expect(placeholder!.text).toBe('*Title*\nsome *bold* and <https://x.test|a link>');
      expect(policy.allowed('T1')).toBe(false);
    } finally {
      slack.streamBehaviour = 'ok';
    }
  });

  it("renders the core's own Markdown notices as mrkdwn, like answers", async () => {
    const reply = new ReplyStream(sink({ threadTs: '60.000001' }, { streaming: new StreamingPolicy(false) }));
    await reply.finish('Persona **pirate** saved. Try `persona use <name>`.', { kind: 'notice' });
    const [m] = slack.botMessages(ws.botToken).filter((x) => x.threadTs === '60.000001');
    expect(m!.text).toBe('Persona *pirate* saved. Try `persona use &lt;name&gt;`.');
  });

  it('sends a private notice with postEphemeral to the asker, in the thread', async () => {
    const reply = new ReplyStream(sink({ threadTs: '50.000001' }, { streaming: new StreamingPolicy(false) }));
    await reply.start();
    await reply.finish('Only **admins** can do that.', { ephemeral: true, kind: 'notice' });
    expect(slack.messages.find((m) => m.threadTs === '50.000001')!.deleted).toBe(true);
    expect(slack.callsOf('chat.postEphemeral').at(-1)!.args).toMatchObject({ channel: 'C1', user: 'UASK', thread_ts: '50.000001', text: 'Only *admins* can do that.' });
  });

  it('continues a long top-level answer (a DM) in the thread of its first message', async () => {
    const reply = new ReplyStream(sink({ channel: 'D7', threadTs: null, isDirect: true }, { limit: 100 }));
    await reply.finish(Array.from({ length: 40 }, (_, i) => `word${i}`).join(' '));
    const [first, ...rest] = slack.botMessages(ws.botToken).filter((m) => m.channel === 'D7');
    expect(first!.threadTs).toBeUndefined();
    expect(rest.length).toBeGreaterThan(0);
    for (const m of rest) expect(m.threadTs).toBe(first!.ts);
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
