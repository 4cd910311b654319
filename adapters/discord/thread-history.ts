/**
 * A thread's earlier messages, for the bot's first mention in an existing thread: one REST read
 * (`GET /channels/{thread}/messages?before=<the question>&limit=15`) through the client's own REST
 * queue, made only when the core asks (it has no memory of the thread). The bot's own messages
 * become assistant turns. It never fails the answer: a 429 is not waited out (the REST client
 * rejects it at once, see rejectHistoryRateLimit), a slow read gives up after a few seconds, and
 * either way the answer goes on without them (logged, not shown).
 *
 * Without the Message Content intent Discord blanks other people's messages in this read too
 * (only the bot's own and those that mention it keep their text); blank ones are left out.
 */
import { Routes, type RateLimitData, type REST } from 'discord.js';
import type { Logger } from '../../src/logger.js';
import type { PriorMessage } from '../../src/ports/messages.js';
import { PLACEHOLDER, statusLine } from './reply-parts.js';

/** Messages read: enough context for a question, well within one request. */
export const THREAD_HISTORY_LIMIT = 15;
/** The read may hold an answer back at most this long. */
export const THREAD_HISTORY_BUDGET_MS = 3_000;

/** Message types that are people talking (default, reply); joins, pins and thread notices are not. */
const CONVERSATION_TYPES = new Set([0, 19]);
const STATUS_PREFIX = statusLine('');

interface WireMessage {
  id: string;
  type: number;
  content: string;
  author: { id: string };
}

/**
 * For the REST client's `rejectOnRateLimit`: a rate-limited read of a channel's messages fails at
 * once instead of waiting (what it would add to the answer is not worth the wait).
 */
export function rejectHistoryRateLimit(limit: Pick<RateLimitData, 'method' | 'route'>): boolean {
  return limit.method.toUpperCase() === 'GET' && limit.route === '/channels/:id/messages';
}

export interface ThreadHistorySource {
  rest: REST;
  /** The bot's user id (its messages are the assistant's turns); undefined before the gateway is ready. */
  botUserId: () => string | undefined;
  log: Logger;
  budgetMs?: number;
}

/** A lazy, never-throwing read of the messages before `before` in `threadId`. */
export function threadHistoryReader(source: ThreadHistorySource, threadId: string, before: string): () => Promise<PriorMessage[]> {
  return async () => {
    try {
      const query = new URLSearchParams({ before, limit: String(THREAD_HISTORY_LIMIT) });
      const signal = AbortSignal.timeout(source.budgetMs ?? THREAD_HISTORY_BUDGET_MS);
      const page = (await source.rest.get(Routes.channelMessages(threadId), { query, signal })) as WireMessage[];
      const prior = priorMessages(page, source.botUserId());
      source.log.debug({ threadId, read: page.length, kept: prior.length }, 'discord thread history read');
      return prior;
    } catch (err) {
      source.log.warn({ threadId, err }, 'discord thread history unavailable; answering without it');
      return [];
    }
  };
}

/** Newest-first wire messages into the conversation, oldest first. */
export function priorMessages(page: WireMessage[], botUserId: string | undefined): PriorMessage[] {
  const mention = botUserId ? new RegExp(`<@!?${botUserId}>`, 'g') : null;
  const out: PriorMessage[] = [];
  for (const m of [...page].reverse()) {
    if (!CONVERSATION_TYPES.has(m.type)) continue;
    const mine = botUserId !== undefined && m.author.id === botUserId;
    const text = (mention ? m.content.replace(mention, ' ') : m.content).replace(/\s+/g, ' ').trim();
    // Blank (no Message Content intent), or the bot's own placeholder or status line.
    if (!text || (mine && (text === PLACEHOLDER || m.content.startsWith(STATUS_PREFIX)))) continue;
    out.push(mine ? { role: 'assistant', userId: null, text: m.content.trim() } : { role: 'user', userId: m.author.id, text });
  }
  return out;
}
