/**
 * The database goes away for 10 seconds while mentions keep arriving. Nothing may be acked and
 * dropped: each delivery is either stored (200, then answered) or refused with a non-2xx status
 * so Slack sends it again — and once the database is back, Slack's retries are answered. The
 * database is a cluster of this test's own, stopped and started under the running service.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack, type FakeWorkspace } from './fakes/slack-api.js';
import { deliver, eventEnvelope, mentionEvent } from './fakes/slack-payloads.js';
import { startFakeOllama, type FakeOllama } from './fakes/ollama.js';
import { eventually, startService, type RunningService } from './helpers/service.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from './helpers/throwaway-postgres.js';

const SIGNING_SECRET = 'outage-signing-secret';
let pg: ThrowawayPostgres;
let slack: FakeSlack;
let ollama: FakeOllama;
let svc: RunningService;
let ws: FakeWorkspace;

beforeAll(async () => {
  pg = await startThrowawayPostgres();
  slack = await startFakeSlack();
  ollama = await startFakeOllama({ models: ['llama3.2:3b', 'nomic-embed-text'] });
  ws = slack.addWorkspace({
    teamId: 'TOUT', teamName: 'Outage', botUserId: 'UBOTO', botId: 'BBOTO', botToken: 'xoxb-outage', installerUserId: 'UASK', code: 'code-out',
    users: { UASK: {} },
  });
  svc = await startService({
    DATABASE_URL: pg.url,
    OLLAMA_HOST: ollama.url,
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
    SLACK_STATE_SECRET: 'outage-state-secret',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_URL: 'http://bot.test',
    ANSWER_LEASE_MS: '2000',
  });
  const start = await fetch(`${svc.base}/slack/install`, { redirect: 'manual' });
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
  expect((await fetch(`${svc.base}/slack/oauth_redirect?code=${ws.code}&state=${encodeURIComponent(state)}`, { headers: { cookie } })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  if (svc && svc.proc.exitCode === null) await svc.crash();
  pg?.destroy();
  await ollama?.close();
  await slack?.close();
});

describe('a database outage while mentions arrive', () => {
  it('refuses what it cannot store (non-2xx, so Slack retries), never acks and drops, and answers the retries once the database is back', async () => {
    ollama.reply = (req: any) => `answer to ${String(req.messages.at(-1).content)}`;
    const payloads = Array.from({ length: 10 }, (_, i) =>
      eventEnvelope(ws, mentionEvent(ws, { channel: 'COUT', user: 'UASK', text: `question ${i}`, ts: `8000.0001${String(i).padStart(2, '0')}` })),
    );
    const send = (p: Record<string, unknown>, retryNum?: number) =>
      deliver(`${svc.base}/slack/events`, SIGNING_SECRET, p, retryNum ? { retryNum } : {}).then((r) => r.status);

    pg.stop();
    const firstTry: number[] = [];
    for (const p of payloads) {
      firstTry.push(await send(p));
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect((await fetch(`${svc.base}/readyz`)).status).toBe(503);
    pg.start();

    // Slack sends each refused delivery again (X-Slack-Retry-Num); the accepted ones it never resends.
    const outcomes = await Promise.all(
      payloads.map(async (p, i) => {
        if (firstTry[i]! < 300) return firstTry[i]!;
        return eventually(async () => {
          const status = await send(p, 1);
          return status < 300 ? status : 0;
        }, `delivery ${i} to be accepted after the outage`);
      }),
    );
    expect(outcomes.every((s) => s === 200)).toBe(true);
    // Every delivery, refused at first or not, ends as exactly one answer in its thread.
    for (const [i, p] of payloads.entries()) {
      const ts = ((p.event as Record<string, unknown>).ts as string);
      const answers = await eventually(
        () => {
          const a = slack.botMessages(ws.botToken).filter((m) => m.threadTs === ts && m.text.includes(`question ${i}`));
          return a.length ? a : null;
        },
        `the answer to question ${i}`,
      );
      expect(answers).toHaveLength(1);
    }
    // While the database was down nothing was acked and dropped: each first try was stored (and
    // answered above) or refused with a status Slack retries.
    expect(firstTry.every((s) => s === 200 || s === 503)).toBe(true);
    expect(firstTry.filter((s) => s === 503).length).toBeGreaterThan(0);
  });
});
