/**
 * The ingest bench's load generator, in a process of its own (so the fake Slack's work in the
 * bench process does not delay the requests or their timing): sends signed mentions at a steady
 * rate and reports each one's ack time and status over IPC.
 *
 * Parent side: runLoad(); child side: this file run with --import tsx.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deliver, eventEnvelope, mentionEvent } from '../fakes/slack-payloads.js';

export interface LoadPlan {
  url: string;
  secret: string;
  workspaces: { teamId: string; teamName: string; botUserId: string }[];
  rate: number;
  seconds: number;
}

export interface SentDelivery {
  index: number;
  teamId: string;
  ts: string;
  payload: Record<string, unknown>;
  status: number;
  ackMs: number;
}

export interface LoadResult {
  deliveries: SentDelivery[];
  /** Wall time from the first send to the last one, in seconds. */
  sendSeconds: number;
}

export function runLoad(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve(m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`load generator exited ${code}`))));
    child.send(plan);
  });
}

async function generate(plan: LoadPlan): Promise<LoadResult> {
  const total = Math.round(plan.rate * plan.seconds);
  const deliveries: SentDelivery[] = [];
  const sends: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / plan.rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const ws = plan.workspaces[i % plan.workspaces.length]!;
    const ts = `${9_000_000 + i}.000100`;
    const payload = eventEnvelope(ws, mentionEvent(ws, { channel: `C${ws.teamId}`, user: `UASK${i % plan.workspaces.length}`, text: `question ${i}`, ts }));
    const d: SentDelivery = { index: i, teamId: ws.teamId, ts, payload, status: 0, ackMs: 0 };
    deliveries.push(d);
    const sent = performance.now();
    sends.push(
      deliver(`${plan.url}/slack/events`, plan.secret, payload).then(
        (r) => {
          d.status = r.status;
          d.ackMs = performance.now() - sent;
        },
        () => {
          d.ackMs = performance.now() - sent;
        },
      ),
    );
  }
  const sendSeconds = (performance.now() - t0) / 1000;
  await Promise.all(sends);
  return { deliveries, sendSeconds };
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', (plan) => {
    void generate(plan as LoadPlan).then((result) => process.send!(result, () => process.exit(0)));
  });
}
