/**
 * What an answer draws on besides the question: the persona that answers, the thread's earlier
 * messages the bot never saw, and the tenant's documents. Each degrades rather than fails: a
 * failing knowledge check or search means an answer without references, never no answer.
 */
import type { Logger } from '../logger.js';
import type { Tenant } from '../ports/tenancy.js';
import type { ChannelSettings, ConversationKey, ConversationStore, Persona, PersonaCatalog } from '../ports/stores.js';
import { LlmError } from '../ports/llm.js';
import type { InboundMessage } from '../ports/messages.js';
import type { AskedIn, KnowledgeBase, Passage } from '../ports/knowledge.js';
import type { AnswerMetrics } from './answer-metrics.js';

export class AnswerContext {
  constructor(
    private readonly d: {
      memory: ConversationStore;
      personas: PersonaCatalog;
      knowledge?: KnowledgeBase;
      metrics: AnswerMetrics;
      logger: Logger;
      /** Persona used when neither the channel nor the tenant names one (a built-in). */
      defaultPersona: string;
    },
  ) {}

  /** Earlier thread messages the bot never saw come in once, on its first mention there, and only when memory has none. */
  async bringInThread(tenant: Tenant, msg: InboundMessage, key: ConversationKey): Promise<void> {
    const { memory } = this.d;
    if (!msg.priorMessages?.length && !msg.threadHistory) return;
    if (await memory.hasAny(tenant, key)) return;
    const prior = msg.priorMessages?.length ? msg.priorMessages : await msg.threadHistory!().catch(() => []);
    if (prior.length) await memory.appendMany(tenant, key, prior.map((m) => ({ role: m.role, userId: m.userId, content: m.text })));
  }

  /** Channel persona, else the tenant default, else the built-in default. */
  async persona(tenant: Tenant, settings: ChannelSettings): Promise<Persona> {
    for (const name of [settings.persona, tenant.defaultPersona, this.d.defaultPersona]) {
      if (!name) continue;
      const p = await this.d.personas.get(tenant, name);
      if (p) return p;
    }
    throw new Error(`built-in persona ${this.d.defaultPersona} is missing: seedBuiltins() was not run`);
  }

  /** Checked before waiting for a slot; a failing check only means no references. */
  async hasDocuments(tenant: Tenant, where: AskedIn): Promise<boolean> {
    try {
      return (await this.d.knowledge?.hasDocuments(tenant, where)) ?? false;
    } catch (err) {
      this.d.logger.warn({ err, tenant: tenant.tenantId }, 'knowledge check failed; answering without references');
      return false;
    }
  }

  /** Retrieval failing degrades to an answer without references, never to no answer. */
  async retrieve(tenant: Tenant, question: string, where: AskedIn): Promise<Passage[]> {
    if (!this.d.knowledge) return [];
    try {
      return await this.d.knowledge.retrieve(tenant, question, where);
    } catch (err) {
      this.d.metrics.retrievalErrors.inc({ kind: err instanceof LlmError ? err.kind : 'failed' });
      this.d.logger.warn({ err: String(err), tenant: tenant.tenantId }, 'retrieval failed; answering without references');
      return [];
    }
  }
}

/** Where a message was asked, for channel-scoped documents (a thread's channelId is its channel). */
export const askedIn = (msg: InboundMessage): AskedIn => ({ channelId: msg.channelId, direct: msg.isDirect });
