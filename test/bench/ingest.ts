/**
 * The ingest bench: signed Slack mentions from many workspaces at a steady rate, through the
 * real service (its own process: Bolt's HTTP receiver, the durable accept, the answer jobs) to
 * the fake Slack and a fake Ollama in a process of its own. It measures what Slack sees — the
 * ack time of each delivery — and what each delivery became: answered, refused with a reply
 * (busy), or lost (acked and never answered, or never accepted through Slack's retries).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeSlack, type FakeWorkspace } from '../fakes/slack-api.js';
import { deliver } from '../fakes/slack-payloads.js';
import { runLoad } from './ingest-load.js';
import { createTestDatabase } from '../helpers/db.js';
import { freePort, startService } from '../helpers/service.js';
import { startFakeOllamaProcess } from './fake-ollama-process.js';
import { percentile } from './stats.js';

export interface IngestBenchOptions {
  workspaces: number;
  /** Deliveries per second, over all workspaces. */
  rate: number;
  seconds: number;
  /** Backend slots (OLLAMA_PARALLEL) and the fake Ollama's own. */
  slots: number;
  log: (line: string) => void;
}

export const defaultIngestOptions: Omit<IngestBenchOptions, 'log'> = { workspaces: 20, rate: 200, seconds: 10, slots: 16 };

export interface IngestResult {
  sent: number;
  /** How long sending took (more than the plan when the machine could not keep up). */
  sendSeconds: number;
  ackMs: { p50: number; p95: number; p99: number; max: number };
  /** HTTP statuses of the first attempt. */
  firstStatus: Record<string, number>;
  /** Deliveries Slack had to send again (non-2xx) before one was accepted. */
  retried: number;
  answered: number;
  refusedWithReply: number;
  lost: number;
  /** Seconds from the last delivery until every reply was out. */
  drainSeconds: number;
  database: string;
}

const SIGNING_SECRET = 'ingest-bench-secret';
const ANSWER = 'a short answer for the ingest bench';

export async function benchIngest(options: Partial<IngestBenchOptions> = {}): Promise<IngestResult> {
  const o = { ...defaultIngestOptions, log: () => {}, ...options };
  const slack = await startFakeSlack();
  const ollama = await startFakeOllamaProcess({ tokenDelayMs: 1, slots: o.slots, answer: ANSWER });
  const tdb = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const dataDir = tdb?.url ? undefined : mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  // The service opens the database itself; this process only made it.
  if (tdb) await tdb.database.close();
  const svc = await startService({
    ...(tdb?.url ? { DATABASE_URL: tdb.url } : { DATA_DIR: dataDir! }),
    OLLAMA_HOST: ollama.url,
    OLLAMA_PARALLEL: String(o.slots),
    QUEUE_MAX: '100000',
    DEFAULT_PLAN: 'enterprise',
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
    SLACK_STATE_SECRET: 'ingest-state',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_URL: 'http://bot.test',
    // As in production: one JSON line per message would be measured as the pipe to this process.
    LOG_LEVEL: 'warn',
  }, { port: await freePort(), ...(process.env.INGEST_PROFILE ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${process.env.INGEST_PROFILE}`] } : {}) });
  try {
    const workspaces: FakeWorkspace[] = [];
    for (let w = 0; w < o.workspaces; w++) {
      const ws = slack.addWorkspace({
        teamId: `TING${w}`, teamName: `Ingest ${w}`, botUserId: `UBOT${w}`, botId: `BBOT${w}`, botToken: `xoxb-ingest-${w}`, installerUserId: `UINST${w}`, code: `code-${w}`,
        users: { [`UASK${w}`]: {} },
      });
      const start = await fetch(`${svc.base}/slack/install`, { redirect: 'manual' });
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
      const done = await fetch(`${svc.base}/slack/oauth_redirect?code=${ws.code}&state=${encodeURIComponent(state)}`, { headers: { cookie } });
      if (done.status !== 200) throw new Error(`install of ${ws.teamId} failed: ${done.status}`);
      workspaces.push(ws);
    }
    o.log(`${o.workspaces} workspaces installed; sending ${o.rate}/s for ${o.seconds} s`);

    const load = await runLoad({ url: svc.base, secret: SIGNING_SECRET, workspaces, rate: o.rate, seconds: o.seconds });
    const loadEnded = performance.now();
    const deliveries = load.deliveries.map((d) => ({ ...d, ws: workspaces.find((w) => w.teamId === d.teamId)! }));
    const total = deliveries.length;
    const acks = deliveries.map((d) => d.ackMs);
    const firstStatus: Record<string, number> = {};
    for (const d of deliveries) firstStatus[d.status] = (firstStatus[d.status] ?? 0) + 1;
    o.log(`sent ${total} in ${load.sendSeconds.toFixed(1)} s; first statuses ${JSON.stringify(firstStatus)}`);

    // What Slack does with a non-2xx: it sends the delivery again (here at once, up to 3 times).
    let retried = 0;
    for (const d of deliveries.filter((x) => x.status !== 200)) {
      retried += 1;
      for (let attempt = 1; attempt <= 3 && d.status !== 200; attempt++) {
        d.status = await deliver(`${svc.base}/slack/events`, SIGNING_SECRET, d.payload, { retryNum: attempt }).then((r) => r.status, () => 0);
      }
    }

    // Every accepted delivery must end as a reply in its thread: an answer or a busy notice.
    const replyOf = (d: (typeof deliveries)[number]) =>
      slack.botMessages(d.ws.botToken).find((m) => m.threadTs === d.ts && !m.streaming && !m.deleted && !m.text.includes('Thinking'));
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && deliveries.some((d) => d.status === 200 && !replyOf(d))) await new Promise((r) => setTimeout(r, 200));
    const drainSeconds = (performance.now() - loadEnded) / 1000;
    let answered = 0;
    let refusedWithReply = 0;
    let lost = 0;
    for (const d of deliveries) {
      const reply = d.status === 200 ? replyOf(d) : undefined;
      if (!reply) lost += 1;
      else if (reply.text.includes(ANSWER)) answered += 1;
      else refusedWithReply += 1;
    }
    return {
      sent: total,
      sendSeconds: load.sendSeconds,
      ackMs: { p50: percentile(acks, 50), p95: percentile(acks, 95), p99: percentile(acks, 99), max: Math.max(...acks) },
      firstStatus,
      retried,
      answered,
      refusedWithReply,
      lost,
      drainSeconds,
      database: tdb?.url ? 'postgres' : 'pglite',
    };
  } finally {
    await svc.stop().catch(() => undefined);
    await ollama.close();
    await slack.close();
    await tdb?.drop().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
