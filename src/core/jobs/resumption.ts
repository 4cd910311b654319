/** What happens to an answer job that an instance died while running, when another takes it over. */
import type { Logger } from '../../logger.js';
import type { AnswerJob, DeliveryRestorer, JobStore } from '../../ports/jobs.js';
import type { ConversationStore, UsageLedger } from '../../ports/stores.js';
import { ReplyStream } from '../reply/stream.js';

/** What users read when an interrupted question is too old to answer again. */
export const RESTARTED_TEXT = 'I was restarted before I could answer; please ask again.';

export interface ResumptionDeps {
  store: JobStore;
  memory: ConversationStore;
  usage: UsageLedger;
  logger: Logger;
  options: { instanceId: string };
}

/** Tokens the crashed attempt generated (recorded at its last lease renewal) are metered now. */
export async function meterLostAttempt(deps: ResumptionDeps, job: AnswerJob): Promise<void> {
  if (job.progressTokens <= 0) return;
  await deps.usage.record({ tenantId: job.tenantId }, { completionTokens: job.progressTokens });
  await deps.store.record(job, deps.options.instanceId, { progressTokens: 0 });
}

/** Too old to answer usefully: finish the begun reply with a notice, and note it in memory. */
export async function expire(deps: ResumptionDeps, job: AnswerJob, restorer: DeliveryRestorer): Promise<void> {
  const { store, memory, logger, options } = deps;
  const { sink } = await restorer.restore(job, () => undefined);
  await new ReplyStream(sink, logger).finish(RESTARTED_TEXT, { kind: 'notice' });
  // Memory never keeps a question without its answer or a note saying why there is none.
  if (job.questionId !== null) {
    await memory.append({ tenantId: job.tenantId }, { channelId: job.channelId, threadId: job.threadId }, {
      role: 'assistant',
      userId: null,
      content: `(${RESTARTED_TEXT})`,
    });
  }
  await store.finish(job, options.instanceId, 'expired');
  logger.info({ jobId: job.id, ageS: Math.round((Date.now() - job.createdAt.getTime()) / 1000) }, 'interrupted answer too old; closed with a notice');
}
