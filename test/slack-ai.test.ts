/**
 * Slack's AI-app surface, end to end: the real Bolt app on the real core against the fake Slack
 * (assistant.threads.*, Block Kit checks, block_actions) and the fake Ollama. Suggested prompts on
 * a new assistant thread, commands typed in an assistant DM thread, the thread status while a
 * question waits and while it thinks, the thread title, feedback stored and reported, stop
 * (button and Slack's own control) aborting the backend call, and thread context under a 429.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { answerFeedback, answerJobs, answers, messages, usage } from '../src/db/schema.js';
import { defaultSuggestedPrompts } from '../src/ports/stores.js';
import {
  agentSessionStoppedEvent,
  appHomeOpenedEvent,
  assistantThreadStartedEvent,
  blockActions,
  eventEnvelope,
  mentionEvent,
  messageEvent,
  type FakeMessage,
  type FakeWorkspace,
} from './fakes/slack-api.js';
import { startSlackHarness, type SlackHarness } from './helpers/slack-harness.js';

let h: SlackHarness;
let acme: FakeWorkspace;
let beta: FakeWorkspace;
const ACME = 'xoxb-acme-secret';

beforeAll(async () => {
  // One backend slot: a second question waits while the first is answered.
  h = await startSlackHarness({ env: { OLLAMA_PARALLEL: '1' } });
  ({ acme, beta } = h);
  for (const ws of [acme, beta]) expect((await h.install(ws)).status).toBe(200);
});

afterAll(async () => {
  await h?.close();
});

/** A DM to the bot inside an assistant thread (the split view sends messages as thread replies). */
function dm(ws: FakeWorkspace, o: { user: string; text: string; ts: string; threadTs: string; channel?: string }) {
  return eventEnvelope(ws, messageEvent(ws, { channel: o.channel ?? `D${o.user}`, channelType: 'im', user: o.user, text: o.text, ts: o.ts, threadTs: o.threadTs }));
}

const ephemeralTo = (user: string) => h.slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === user);
const lastEphemeral = (user: string) => String(ephemeralTo(user).at(-1)?.args.text ?? '');
const answerIn = (channel: string, threadTs: string) => h.slack.botMessages(ACME).filter((m) => m.channel === channel && m.threadTs === threadTs);
const blockOf = (m: FakeMessage, type: string) => (m.blocks ?? []).find((b: any) => b.type === type) as any;

async function untilAnswered(channel: string, threadTs: string, token = ACME): Promise<FakeMessage> {
  let found: FakeMessage | undefined;
  await vi.waitFor(
    () => {
      found = h.slack.botMessages(token).find((m) => m.channel === channel && m.threadTs === threadTs && !m.streaming && blockOf(m, 'context_actions'));
      expect(found).toBeDefined();
    },
    { timeout: 15_000, interval: 20 },
  );
  return found!;
}

describe.sequential('Slack AI-app surface', () => {
  it("a new assistant thread gets the workspace's suggested prompts: the built-in ones, then the admin's", async () => {
    const n = h.handled.length;
    await h.send(eventEnvelope(acme, assistantThreadStartedEvent({ channel: 'DUPLAINA', threadTs: '3000.000100', user: 'UPLAINA' })));
    await h.waitHandled(n + 1);
    expect(h.slack.assistant.prompts.at(-1)).toMatchObject({ channel: 'DUPLAINA', threadTs: '3000.000100', prompts: defaultSuggestedPrompts.map((p) => ({ message: p })) });

    // An admin sets the workspace's own, typed in an assistant thread (slash commands do not reach those).
    await h.send(dm(acme, { user: 'UADMA', text: 'prompts set What is our holiday policy? | Summarize the handbook', ts: '3001.000200', threadTs: '3001.000100' }));
    await vi.waitFor(() => expect(lastEphemeral('UADMA')).toContain('New assistant threads will suggest'), { timeout: 10_000 });
    const m = h.handled.length;
    await h.send(eventEnvelope(acme, assistantThreadStartedEvent({ channel: 'DUPLAINA', threadTs: '3002.000100', user: 'UPLAINA' })));
    await h.send(eventEnvelope(beta, assistantThreadStartedEvent({ channel: 'DUPLAINB', threadTs: '3003.000100', user: 'UPLAINB' })));
    await h.waitHandled(m + 2);
    const byThread = (ts: string) => h.slack.assistant.prompts.find((p) => p.threadTs === ts)!.prompts.map((p) => p.message);
    expect(byThread('3002.000100')).toEqual(['What is our holiday policy?', 'Summarize the handbook']);
    // The other workspace keeps the built-in prompts.
    expect(byThread('3003.000100')).toEqual([...defaultSuggestedPrompts]);

    // The agent view's conversation gets them at its top too (no thread yet), once in a while per user.
    const k = h.handled.length;
    await h.send(eventEnvelope(acme, appHomeOpenedEvent({ channel: 'DUPLAINA', user: 'UPLAINA', tab: 'messages' })));
    await h.send(eventEnvelope(acme, appHomeOpenedEvent({ channel: 'DUPLAINA', user: 'UPLAINA', tab: 'messages' })));
    await h.waitHandled(k + 2);
    expect(h.slack.assistant.prompts.filter((p) => p.channel === 'DUPLAINA' && !p.threadTs)).toHaveLength(1);
  });

  it('prompts: more than four, or set by a non-admin, is refused with why; everyone can list them', async () => {
    await h.send(dm(acme, { user: 'UADMA', text: 'prompts set a | b | c | d | e', ts: '3010.000200', threadTs: '3010.000100' }));
    await vi.waitFor(() => expect(lastEphemeral('UADMA')).toContain('At most 4 prompts (you gave 5)'), { timeout: 10_000 });
    await h.send(dm(acme, { user: 'UPLAINA', text: 'prompts set mine', ts: '3011.000200', threadTs: '3011.000100' }));
    await vi.waitFor(() => expect(lastEphemeral('UPLAINA')).toMatch(/admin/i), { timeout: 10_000 });
    await h.send(dm(acme, { user: 'UPLAINA', text: 'prompts list', ts: '3012.000200', threadTs: '3012.000100' }));
    await vi.waitFor(() => expect(lastEphemeral('UPLAINA')).toContain('1. What is our holiday policy?'), { timeout: 10_000 });
    expect((await h.core.tenants.resolve('slack', 'TACME'))!.suggestedPrompts).toEqual(['What is our holiday policy?', 'Summarize the handbook']);
  });

  it('commands typed in an assistant DM thread work like the slash command (persona list, knowledge list)', async () => {
    await h.send(dm(acme, { user: 'UPLAINA', text: 'persona list', ts: '3020.000200', threadTs: '3020.000100' }));
    await vi.waitFor(() => expect(lastEphemeral('UPLAINA')).toContain('assistant'), { timeout: 10_000 });
    await h.send(dm(acme, { user: 'UADMA', text: 'knowledge list', ts: '3021.000200', threadTs: '3021.000100' }));
    await vi.waitFor(() => expect(lastEphemeral('UADMA')).toMatch(/document|knowledge/i), { timeout: 10_000 });
    // Neither reached the model.
    expect(h.ollama.chatRequests().some((r) => JSON.stringify(r.body).includes('persona list'))).toBe(false);
  });

  it('while a question waits for the one slot its thread says so, then "thinking…"; the stream starts only with text; the thread is titled', async () => {
    h.ollama.tokenDelayMs = 40;
    h.ollama.reply = (req: any) => `Answer: ${req.messages.at(-1).content} ${'more '.repeat(40)}`;
    try {
      const calls = h.slack.calls.length;
      await h.send(dm(acme, { user: 'UPLAINA', text: 'first question here', ts: '3030.000200', threadTs: '3030.000100' }));
      await vi.waitFor(() => expect(h.ollama.inFlight).toBe(1), { timeout: 10_000 });
      await h.send(dm(acme, { user: 'UADMA', text: 'How do holidays work when a public holiday falls on a weekend?', ts: '3031.000200', threadTs: '3031.000100' }));
      await untilAnswered('DUADMA', '3031.000100');

      const statuses = h.slack.assistant.statuses.filter((s) => s.threadTs === '3031.000100').map((s) => s.status);
      expect(statuses[0]).toMatch(/^is waiting for a free slot/);
      expect(statuses).toContain('is thinking…');
      // The stream began after the wait and the thinking were shown, not before.
      const seq = h.slack.calls.slice(calls).filter((c) => c.args.thread_ts === '3031.000100' || c.args.channel_id === 'DUADMA');
      const firstStream = seq.findIndex((c) => c.method === 'chat.startStream');
      const thinking = seq.findIndex((c) => c.method === 'assistant.threads.setStatus' && c.args.status === 'is thinking…');
      expect(thinking).toBeGreaterThanOrEqual(0);
      expect(firstStream).toBeGreaterThan(thinking);
      // Titled from its first question (cut at a word), in the DM's thread only.
      expect(h.slack.assistant.titles.get('DUADMA:3031.000100')).toBe('How do holidays work when a public holiday falls on a…');
      expect([...h.slack.assistant.titles.keys()].some((k) => k.startsWith('CGEN'))).toBe(false);
    } finally {
      h.ollama.tokenDelayMs = 3;
      h.ollama.reply = undefined;
    }
  });

  it('outside a thread the wait shows on the placeholder message, then the thinking', async () => {
    h.ollama.tokenDelayMs = 40;
    h.ollama.reply = (req: any) => `Answer: ${req.messages.at(-1).content} ${'more '.repeat(30)}`;
    try {
      await h.send(dm(acme, { user: 'UPLAINA', text: 'first question here', ts: '3032.000200', threadTs: '3032.000100' }));
      await vi.waitFor(() => expect(h.ollama.inFlight).toBe(1), { timeout: 10_000 });
      const calls = h.slack.calls.length;
      // A top-level DM (no thread: no status line, no stream) gets a placeholder message.
      await h.send(eventEnvelope(acme, messageEvent(acme, { channel: 'DUADMA', channelType: 'im', user: 'UADMA', text: 'a second question', ts: '3033.000100' })));
      await vi.waitFor(
        () => {
          const edits = h.slack.calls.slice(calls).filter((c) => c.method === 'chat.update' && c.args.channel === 'DUADMA').map((c) => String(c.args.text));
          expect(edits.some((t) => /Waiting for a free slot/.test(t))).toBe(true);
          expect(edits.some((t) => /Thinking/.test(t))).toBe(true);
        },
        { timeout: 15_000, interval: 20 },
      );
      await vi.waitFor(() => expect(h.slack.botMessages(ACME).find((m) => m.channel === 'DUADMA' && /^Answer: a second question/.test(m.text))).toBeDefined(), {
        timeout: 15_000,
        interval: 20,
      });
    } finally {
      h.ollama.tokenDelayMs = 3;
      h.ollama.reply = undefined;
    }
  });

  it('feedback: stored with the answer, one changeable vote per user, told to the clicker only, counted on /metrics and reported by `feedback`', async () => {
    await h.send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'where is the printer?', ts: '3040.000100' })));
    const msg = await untilAnswered('CGEN', '3040.000100');
    const block = blockOf(msg, 'context_actions');
    expect(block.elements[0]).toMatchObject({ type: 'feedback_buttons', action_id: 'answer_feedback', positive_button: { value: 'positive' }, negative_button: { value: 'negative' } });
    const click = (ws: FakeWorkspace, user: string, value: string) =>
      h.send(blockActions(ws, { user, channel: 'CGEN', messageTs: msg.ts, threadTs: '3040.000100', action: { type: 'feedback_buttons', action_id: 'answer_feedback', block_id: block.block_id, value } }), { form: true });

    expect((await click(acme, 'UPLAINA', 'positive')).status).toBe(200);
    expect((await click(acme, 'UPLAINA', 'negative')).status).toBe(200);
    expect((await click(acme, 'UADMA', 'positive')).status).toBe(200);
    const answerId = String(block.block_id).split(':')[1]!;
    const votes = await h.tdb.database.db.select().from(answerFeedback).where(eq(answerFeedback.answerId, answerId));
    expect(votes.map((v) => [v.userId, v.value]).sort()).toEqual([
      ['UADMA', 'positive'],
      ['UPLAINA', 'negative'],
    ]);
    const [answer] = await h.tdb.database.db.select().from(answers).where(eq(answers.id, answerId));
    expect(answer).toMatchObject({ channelId: 'CGEN', threadId: '3040.000100', askerId: 'UPLAINA', persona: 'assistant', stopped: false });
    // Acknowledged privately, to the clicker.
    expect(lastEphemeral('UPLAINA')).toContain('noted that it did not help');
    expect(ephemeralTo('UADMA').at(-1)?.args).toMatchObject({ channel: 'CGEN', thread_ts: '3040.000100' });

    // A click from another workspace naming this answer finds nothing, and stores nothing.
    await click(beta, 'UPLAINB', 'negative');
    expect(lastEphemeral('UPLAINB')).toContain("can't find that answer");
    expect(await h.tdb.database.db.select().from(answerFeedback).where(eq(answerFeedback.userId, 'UPLAINB'))).toHaveLength(0);

    const metrics = await (await fetch(`${h.base}/metrics`)).text();
    expect(metrics).toMatch(/bot_answer_feedback_total\{outcome="positive"\} 2/);
    expect(metrics).toMatch(/bot_answer_feedback_total\{outcome="negative"\} 1/);
    expect(metrics).not.toMatch(/bot_answer_feedback_total\{[^}]*user/);

    await h.send(dm(acme, { user: 'UADMA', text: 'feedback', ts: '3041.000200', threadTs: '3041.000100' }));
    await vi.waitFor(() => expect(lastEphemeral('UADMA')).toContain('today: 1 helpful, 1 not helpful'), { timeout: 10_000 });
    expect(lastEphemeral('UADMA')).toContain('Q: where is the printer?');
  });

  it('stop: refused to someone else, then the asker stops it; the backend call is aborted within a second and the partial answer is kept as stopped', async () => {
    h.ollama.tokenDelayMs = 30;
    h.ollama.reply = () => `Part one. ${'and more words '.repeat(200)}`;
    try {
      await h.send(eventEnvelope(acme, mentionEvent(acme, { channel: 'CGEN', user: 'UPLAINA', text: 'tell me a long story', ts: '3050.000100' })));
      let live: FakeMessage | undefined;
      await vi.waitFor(
        () => {
          live = answerIn('CGEN', '3050.000100').find((m) => m.streaming);
          expect(live?.text.length ?? 0).toBeGreaterThan(40);
        },
        { timeout: 15_000, interval: 20 },
      );
      // While it streams the answer carries the stop button (the stream's blocks), and no feedback yet.
      const stop = blockOf(live!, 'actions');
      expect(stop.elements[0]).toMatchObject({ type: 'button', action_id: 'answer_stop' });
      expect(blockOf(live!, 'context_actions')).toBeUndefined();
      const press = (user: string) =>
        h.send(blockActions(acme, { user, channel: 'CGEN', messageTs: live!.ts, threadTs: '3050.000100', action: { action_id: 'answer_stop', block_id: stop.block_id, value: stop.elements[0].value } }), { form: true });

      // A member who neither asked nor is an admin is refused; the answer goes on.
      acme.users!.UOTHERA = {};
      await press('UOTHERA');
      expect(lastEphemeral('UOTHERA')).toBe('Only the person who asked, or an admin, can stop this answer.');
      expect(h.ollama.abortedChats).toHaveLength(0);

      const pressedAt = Date.now();
      await press('UPLAINA');
      await vi.waitFor(() => expect(h.ollama.abortedChats.length).toBe(1), { timeout: 5_000, interval: 10 });
      expect(h.ollama.abortedChats[0]! - pressedAt).toBeLessThan(1_000);
      expect(lastEphemeral('UPLAINA')).toBe('Stopping the answer.');

      const done = await untilAnswered('CGEN', '3050.000100');
      const text = blockOf(done, 'markdown').text as string;
      expect(text.startsWith('Part one.')).toBe(true);
      expect(text.endsWith('_(stopped)_')).toBe(true);
      expect(blockOf(done, 'actions')).toBeUndefined();
      const db = h.tdb.database.db;
      // The job is marked answered just after the reply went out.
      const job = await vi.waitFor(
        async () => {
          const [row] = await db.select().from(answerJobs).where(eq(answerJobs.threadId, '3050.000100'));
          expect(row).toMatchObject({ state: 'answered', stopRequestedBy: 'UPLAINA' });
          return row;
        },
        { timeout: 5_000, interval: 20 },
      );
      const [row] = await db.select().from(answers).where(eq(answers.id, job!.id));
      expect(row!.stopped).toBe(true);
      const remembered = await db.select().from(messages).where(and(eq(messages.threadId, '3050.000100'), eq(messages.role, 'assistant')));
      expect(remembered.at(-1)!.content).toMatch(/^Part one\.[\s\S]*\(stopped\)$/);
      // The tokens generated before the stop are metered.
      expect(remembered.at(-1)!.tokens).toBeGreaterThan(0);
      const [day] = await db.select().from(usage).where(eq(usage.tenantId, job!.tenantId)).orderBy(usage.day);
      expect(day!.completionTokens).toBeGreaterThanOrEqual(remembered.at(-1)!.tokens!);
    } finally {
      h.ollama.tokenDelayMs = 3;
      h.ollama.reply = undefined;
    }
  });

  it("Slack's own stop control (agent_session_stopped) stops the thread's answer the same way", async () => {
    h.ollama.tokenDelayMs = 30;
    h.ollama.reply = () => `Beginning. ${'words '.repeat(300)}`;
    try {
      await h.send(dm(acme, { user: 'UPLAINA', text: 'go on and on', ts: '3060.000200', threadTs: '3060.000100' }));
      await vi.waitFor(() => expect(answerIn('DUPLAINA', '3060.000100').find((m) => m.streaming)?.text.length ?? 0).toBeGreaterThan(20), { timeout: 15_000, interval: 20 });
      const aborted = h.ollama.abortedChats.length;
      await h.send(eventEnvelope(acme, agentSessionStoppedEvent({ channel: 'DUPLAINA', threadTs: '3060.000100', user: 'UPLAINA' })));
      await vi.waitFor(() => expect(h.ollama.abortedChats.length).toBe(aborted + 1), { timeout: 5_000, interval: 10 });
      const done = await untilAnswered('DUPLAINA', '3060.000100');
      expect(blockOf(done, 'markdown').text).toMatch(/^Beginning\.[\s\S]*_\(stopped\)_$/);
    } finally {
      h.ollama.tokenDelayMs = 3;
      h.ollama.reply = undefined;
    }
  });

  it('a first mention in an existing thread answers without its earlier messages when Slack answers 429, and reads a thread at most once a minute per workspace', async () => {
    h.slack.addMessage({ channel: 'COPS', ts: '3070.000100', user: 'UPLAINA', text: 'the deploy key is blue' });
    h.slack.addMessage({ channel: 'COPS', ts: '3070.000200', user: 'UADMA', text: 'rotate it monthly', threadTs: '3070.000100' });
    h.slack.rateLimit('conversations.replies', 1, 60);
    const reads = h.slack.callsOf('conversations.replies').length;
    await h.send(eventEnvelope(acme, mentionEvent(acme, { channel: 'COPS', user: 'UPLAINA', text: 'what colour is the key?', ts: '3070.000300', threadTs: '3070.000100' })));
    await untilAnswered('COPS', '3070.000100');
    const prompt = JSON.stringify(h.ollama.chatRequests().find((r) => JSON.stringify(r.body).includes('what colour is the key?'))!.body.messages);
    expect(prompt).not.toContain('the deploy key is blue');
    expect(h.slack.callsOf('conversations.replies').slice(reads).map((c) => c.status)).toEqual([429]);
    expect(h.logLines.join('')).toContain('answering without the thread');

    // Another first mention in another thread of the same workspace within the minute: no second read.
    h.slack.addMessage({ channel: 'COPS', ts: '3071.000100', user: 'UPLAINA', text: 'lunch is at noon' });
    await h.send(eventEnvelope(acme, mentionEvent(acme, { channel: 'COPS', user: 'UPLAINA', text: 'when is lunch?', ts: '3071.000300', threadTs: '3071.000100' })));
    await untilAnswered('COPS', '3071.000100');
    expect(h.slack.callsOf('conversations.replies').slice(reads)).toHaveLength(1);
  });
});

describe.sequential('Slack streams that last', () => {
  let r: SlackHarness;
  beforeAll(async () => {
    r = await startSlackHarness({ slack: { maxStreamAgeMs: 600 }, ollama: { tokenDelayMs: 15 } });
    expect((await r.install(r.acme)).status).toBe(200);
  });
  afterAll(async () => {
    await r?.close();
  });

  /** Every message of the bot in the thread, in order, as the user reads them. */
  const threadText = (threadTs: string) =>
    r.slack
      .botMessages(ACME)
      .filter((m) => m.threadTs === threadTs)
      .map((m) => String(blockOfR(m, 'markdown')?.text ?? m.text));
  const blockOfR = (m: FakeMessage, type: string) => (m.blocks ?? []).find((b: any) => b.type === type) as any;

  it('an answer that outlives its stream goes on in a new message before the stream would age out; nothing is lost', async () => {
    const words = Array.from({ length: 120 }, (_, i) => `w${i}`);
    r.ollama.reply = () => words.join(' ');
    await r.send(eventEnvelope(r.acme, mentionEvent(r.acme, { channel: 'CLONG', user: 'UPLAINA', text: 'a long one', ts: '4000.000100' })));
    await vi.waitFor(() => expect(r.handled).toContain('job:answered'), { timeout: 20_000, interval: 20 });
    const parts = threadText('4000.000100');
    expect(parts.length).toBeGreaterThan(1);
    // Every word, once, in order, across the messages; only the last carries the feedback buttons.
    expect(parts.join(' ').split(/\s+/).filter(Boolean)).toEqual(words);
    const msgs = r.slack.botMessages(ACME).filter((m) => m.threadTs === '4000.000100');
    expect(msgs.map((m) => Boolean(blockOfR(m, 'context_actions')))).toEqual([...msgs.slice(1).map(() => false), true]);
    expect(msgs.every((m) => !m.streaming && !blockOfR(m, 'actions'))).toBe(true);
  });

  it('a stream Slack stops taking text for (message_not_in_streaming_state) rolls over the same way', async () => {
    r.slack.streamMaxAgeMs = 300;
    const n = r.handled.length;
    try {
      const words = Array.from({ length: 80 }, (_, i) => `x${i}`);
      r.ollama.reply = () => words.join(' ');
      await r.send(eventEnvelope(r.acme, mentionEvent(r.acme, { channel: 'CLONG', user: 'UPLAINA', text: 'another long one', ts: '4001.000100' })));
      await vi.waitFor(() => expect(r.handled.slice(n)).toContain('job:answered'), { timeout: 20_000, interval: 20 });
      expect(r.slack.callsOf('chat.appendStream').some((c) => c.error === 'message_not_in_streaming_state')).toBe(true);
      const parts = threadText('4001.000100');
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.join(' ').split(/\s+/).filter(Boolean)).toEqual(words);
    } finally {
      r.slack.streamMaxAgeMs = 5 * 60_000;
    }
  });
});
