/** Answer job rows to AnswerJobs and back: the sealed secrets, the '' thread of a channel timeline. */
import type { answerJobs } from '../db/schema.js';
import type { AnswerJob, JobState, NewDelivery } from '../ports/jobs.js';
import type { Platform } from '../ports/tenancy.js';
import type { TokenSealer } from '../security/sealing.js';

export type Row = typeof answerJobs.$inferSelect;

/** Binds sealed secrets to their delivery: a ciphertext copied to another row does not open. */
const secretsAad = (platform: string, eventId: string) => `answer-job:${platform}:${eventId}`;

export function sealSecrets(d: NewDelivery, sealer: TokenSealer | undefined) {
  if (!d.secrets || Object.keys(d.secrets).length === 0) return null;
  if (!sealer) throw new Error('ENCRYPTION_KEY must be set to accept deliveries that carry credentials');
  return sealer.seal(JSON.stringify(d.secrets), secretsAad(d.platform, d.eventId));
}

export function jobFromRow(r: Row, sealer: TokenSealer | undefined): AnswerJob {
  let secrets: Record<string, string> = {};
  if (r.secrets && r.secretsKeyId && sealer) {
    secrets = JSON.parse(sealer.open({ keyId: r.secretsKeyId, ciphertext: r.secrets }, secretsAad(r.platform, r.eventId)));
  }
  return {
    id: r.id,
    tenantId: r.tenantId,
    platform: r.platform as Platform,
    tenantExternalId: r.tenantExternalId,
    eventId: r.eventId,
    channelId: r.channelId,
    threadId: r.threadId === '' ? null : r.threadId,
    userId: r.userId,
    state: r.state as JobState,
    text: r.text,
    delivery: r.delivery,
    secrets,
    reply: r.reply,
    questionId: r.questionId,
    attempts: r.attempts,
    progressTokens: r.progressTokens,
    mergeable: r.mergeable,
    stopRequestedBy: r.stopRequestedAt ? (r.stopRequestedBy ?? '') : null,
    createdAt: r.createdAt,
  };
}
