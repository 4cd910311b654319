/**
 * "Acked means answered", tried from outside: the service runs as its own process against the
 * fake Slack and the fake Ollama, and is killed (kill -9) or stopped (SIGTERM) while it answers.
 * Every question that got its ack ends as an answer, in the message the bot had begun — a stuck
 * native stream is stopped and rewritten, a stuck placeholder edited — and no memory or usage row
 * is lost. On the real Postgres when TEST_DATABASE_URL is set; otherwise on an embedded database
 * in a temporary folder (the next process takes the dead one's folder over).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import { answerJobs, messages, tenants, usage } from '../src/db/schema.js';
import { startFakeSlack, type FakeSlack, type FakeWorkspace } from './fakes/slack-api.js';
import { deliver, eventEnvelope, mentionEvent } from './fakes/slack-payloads.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { eventually, startService, type RunningService } from './helpers/service.js';

const SIGNING_SECRET = 'durable-signing-secret';
const KEY = randomBytes(32).toString('base64');
let slack: FakeSlack;
let ollama: FakeOllama;
let tdb: TestDatabase | undefined;
let dataDir: string | undefined;
let ws: FakeWorkspace;
const running: RunningService[] = [];

/** The words of a long answer: long enough to be killed in the middle of it. */
const words = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(tdb?.url ? { DATABASE_URL: tdb.url } : { DATA_DIR: dataDir! }),
    OLLAMA_HOST: ollama.url,
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
    SLACK_STATE_SECRET: 'durable-state-secret',
    ENCRYPTION_KEY: KEY,
    PUBLIC_URL: 'http://bot.test',
    // Short leases: a dead instance's answers are taken over within seconds, not half a minute.
    ANSWER_LEASE_MS: '2000',
    ...extra,
  };
}

async function start(extra: Record<string, string> = {}): Promise<RunningService> {
  const svc = await startService(env(extra));
  running.push(svc);
  return svc;
}

/** The service's database, from this process: directly, or through the running owner's socket. */
async function withDb<T>(use: (db: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(tdb?.url ? { url: tdb.url, maxConnections: 2 } : { dataDir: dataDir! });
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}

async function install(svc: RunningService): Promise<void> {
  const startRes = await fetch(`${svc.base}/slack/install`, { redirect: 'manual' });
  const state = new URL(startRes.headers.get('location')!).searchParams.get('state')!;
  const cookie = startRes.headers.get('set-cookie')!.split(';')[0]!;
  const done = await fetch(`${svc.base}/slack/oauth_redirect?code=${ws.code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
  expect(done.status).toBe(200);
}

const mention = (svc: RunningService, text: string, ts: string) =>
  deliver(`${svc.base}/slack/events`, SIGNING_SECRET, eventEnvelope(ws, mentionEvent(ws, { channel: 'CDUR', user: 'UASK', text, ts })));

const answersIn = (threadTs: string) => slack.botMessages(ws.botToken).filter((m) => m.threadTs === threadTs && !m.deleted);

/** The rows one thread left: its questions and answers in memory, and its job. */
async function rowsOf(threadTs: string) {
  return withDb(async (d) => {
    const [tenant] = await d.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.externalId, ws.teamId));
    const memory = await d.db
      .select({ role: messages.role, content: messages.content })
      .from(messages)
      .where(and(eq(messages.tenantId, tenant!.id), eq(messages.threadId, threadTs)))
      .orderBy(messages.id);
    const jobs = await d.db.select().from(answerJobs).where(and(eq(answerJobs.tenantId, tenant!.id), eq(answerJobs.threadId, threadTs)));
    const [tokens] = await d.db
      .select({ completion: sql<number>`coalesce(sum(${usage.completionTokens}), 0)::int` })
      .from(usage)
      .where(eq(usage.tenantId, tenant!.id));
    return { memory, jobs, completionTokens: Number(tokens?.completion ?? 0) };
  });
}

beforeAll(async () => {
  slack = await startFakeSlack();
  ollama = await startFakeOllama({ models: ['llama3.2:3b', 'nomic-embed-text'] });
  if (process.env.TEST_DATABASE_URL || process.env.DATABASE_URL) tdb = await createTestDatabase();
  else dataDir = mkdtempSync(join(tmpdir(), 'durable-'));
  ws = slack.addWorkspace({
    teamId: 'TDUR', teamName: 'Durable', botUserId: 'UBOTD', botId: 'BBOTD', botToken: 'xoxb-durable', installerUserId: 'UASK', code: 'code-dur',
    users: { UASK: {} },
  });
  const first = await start();
  await install(first);
  await first.stop();
}, 120_000);

afterEach(async () => {
  for (const svc of running.splice(0)) if (svc.proc.exitCode === null && svc.proc.signalCode === null) await svc.crash();
  slack.streamBehaviour = 'ok';
  ollama.tokenDelayMs = 0;
});

afterAll(async () => {
  await tdb?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await ollama?.close();
  await slack?.close();
});

describe.sequential('answers survive the process that began them', () => {
  it('kill -9 mid-stream: the next start stops the stuck stream and finishes the answer in place', async () => {
    const svc = await start();
    ollama.tokenDelayMs = 60;
    ollama.reply = () => words('s', 60);
    expect((await mention(svc, 'a long one please', '7000.000100')).status).toBe(200);
    const stuck = await eventually(() => answersIn('7000.000100').find((m) => m.streaming && m.text.split(' ').length > 5), 'the stream to begin');
    await svc.crash();
    expect(stuck.streaming).toBe(true);
    const asked = ollama.chatRequests().length;

    await start();
    await eventually(() => !stuck.streaming && stuck.text.includes('s59'), 'the answer to be finished in place', 30_000);
    expect(stuck.text.trim()).toBe(words('s', 60));
    expect(answersIn('7000.000100')).toHaveLength(1);
    expect(ollama.chatRequests().length).toBe(asked + 1);
    const rows = await rowsOf('7000.000100');
    expect(rows.memory.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(rows.jobs).toMatchObject([{ state: 'answered', attempts: 2 }]);
    // What the dead attempt generated before its last lease renewal was metered too.
    expect(rows.completionTokens).toBeGreaterThan(60);
  });

  it('kill -9 while editing a placeholder (no native streaming): the same message gets the whole answer', async () => {
    slack.streamBehaviour = 'not_allowed';
    const svc = await start();
    ollama.tokenDelayMs = 60;
    ollama.reply = () => words('p', 60);
    await mention(svc, 'the placeholder way', '7100.000100');
    const placeholder = await eventually(() => answersIn('7100.000100').find((m) => m.edits > 1), 'progress edits');
    await svc.crash();
    expect(placeholder.text).not.toContain('p59');

    await start();
    await eventually(() => placeholder.text.includes('p59'), 'the placeholder to be finished', 30_000);
    expect(placeholder.text.trim()).toBe(words('p', 60));
    expect(answersIn('7100.000100')).toHaveLength(1);
    expect((await rowsOf('7100.000100')).memory.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('SIGTERM: a short answer finishes within the grace period with its rows; a long one is handed back and resumed', async () => {
    const svc = await start({ SHUTDOWN_GRACE_MS: '1500' });
    ollama.tokenDelayMs = 60;
    ollama.reply = (req: any) => (String(req.messages.at(-1).content).includes('short') ? words('q', 10) : words('l', 80));
    await mention(svc, 'a long answer', '7200.000100');
    const long = await eventually(() => answersIn('7200.000100').find((m) => m.streaming && m.text.length > 0), 'the long answer to begin');
    await mention(svc, 'a short answer', '7200.000200');
    await eventually(() => answersIn('7200.000200')[0], 'the short answer to begin');
    expect(await svc.stop()).toBe(0);

    const short = await rowsOf('7200.000200');
    expect(answersIn('7200.000200')[0]!.text.trim()).toBe(words('q', 10));
    expect(short.memory.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(short.jobs).toMatchObject([{ state: 'answered' }]);
    const handedBack = await rowsOf('7200.000100');
    expect(handedBack.jobs).toMatchObject([{ state: 'received', leaseOwner: null }]);
    expect(handedBack.jobs[0]!.reply).toHaveLength(1);
    expect(long.text).not.toContain('l79');

    await start();
    await eventually(() => !long.streaming && long.text.includes('l79'), 'the long answer to be resumed', 30_000);
    expect(long.text.trim()).toBe(words('l', 80));
    expect(answersIn('7200.000100')).toHaveLength(1);
    expect((await rowsOf('7200.000100')).memory.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('two instances on one database: when one dies mid-answer, the other finishes it', async (ctx) => {
    // Two processes share a server database; an embedded folder has one owner by design.
    if (!tdb?.url) ctx.skip();
    const a = await start();
    const b = await start();
    ollama.tokenDelayMs = 60;
    ollama.reply = () => words('t', 60);
    await mention(a, 'who finishes this?', '7300.000100');
    const begun = await eventually(() => answersIn('7300.000100').find((m) => m.streaming && m.text.split(' ').length > 5), 'the stream to begin');
    await a.crash();
    await eventually(() => !begun.streaming && begun.text.includes('t59'), 'the other instance to finish it', 30_000);
    expect(begun.text.trim()).toBe(words('t', 60));
    expect(answersIn('7300.000100')).toHaveLength(1);
    expect(b.logs.some((l) => l.msg === 'resuming an interrupted answer')).toBe(true);
  });
});
