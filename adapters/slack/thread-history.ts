/**
 * A thread's earlier messages, for a first mention inside an existing thread. Apps not listed in
 * the Slack Marketplace get conversations.replies once a minute per workspace, 15 messages a
 * call: reads are budgeted per workspace to that, made only when the bot has no memory of the
 * thread (the core asks lazily), and a refusal, a 429 or any error means answering without the
 * thread (logged, never shown).
 */
import type { WebClient } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../src/logger.js';
import type { PriorMessage } from '../../src/ports/messages.js';
import { failureOf } from './reply-parts.js';
import { stripBotMention } from './inbound.js';

/** Messages one read brings (Slack's cap for unlisted apps). */
export const THREAD_READ_LIMIT = 15;

interface SlackMessageLike {
  ts?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  subtype?: string;
}

/** One conversations.replies call per workspace per interval, on this instance. */
export class ThreadReadBudget {
  private readonly last: LRUCache<string, number>;

  constructor(private readonly intervalMs = 60_000) {
    this.last = new LRUCache({ max: 10_000, ttl: Math.max(1, intervalMs) });
  }

  /** True (and the budget spent) when the workspace may read now. */
  take(workspace: string): boolean {
    if (this.intervalMs <= 0) return true;
    if (this.last.has(workspace)) return false;
    this.last.set(workspace, Date.now());
    return true;
  }
}

export interface ThreadRead {
  client: WebClient;
  workspace: string;
  channel: string;
  threadTs: string;
  /** Only messages before this one (the mention being answered). */
  beforeTs: string;
  bot: { userId?: string; botId?: string };
}

export class ThreadHistoryReader {
  constructor(
    private readonly budget: ThreadReadBudget,
    private readonly logger: Logger,
  ) {}

  /** The thread's earlier messages, oldest first; [] when the budget is spent or Slack refuses. */
  async read(r: ThreadRead): Promise<PriorMessage[]> {
    if (!this.budget.take(r.workspace)) {
      this.logger.warn({ workspace: r.workspace }, 'slack thread context skipped: one conversations.replies a minute per workspace');
      return [];
    }
    try {
      const res = await r.client.conversations.replies({ channel: r.channel, ts: r.threadTs, limit: THREAD_READ_LIMIT });
      const out: PriorMessage[] = [];
      for (const m of (res.messages ?? []) as SlackMessageLike[]) {
        if (!m.ts || Number(m.ts) >= Number(r.beforeTs) || !m.text) continue;
        const fromBot = (r.bot.userId && m.user === r.bot.userId) || (r.bot.botId && m.bot_id === r.bot.botId);
        out.push({ role: fromBot ? 'assistant' : 'user', userId: fromBot ? null : (m.user ?? null), text: stripBotMention(m.text, r.bot.userId) });
      }
      return out.slice(-THREAD_READ_LIMIT);
    } catch (err) {
      this.logger.warn({ err: failureOf(err), workspace: r.workspace }, 'slack conversations.replies failed; answering without the thread');
      return [];
    }
  }
}
