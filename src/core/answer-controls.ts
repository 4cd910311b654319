/**
 * The buttons on answers. Stop: only the asker or an admin, only while the answer is unfinished;
 * it aborts the backend call (AnswerJobs), and the pipeline keeps the partial text as stopped.
 * Feedback: anyone who sees the answer may vote once (a second vote changes the first); votes
 * are stored with the answer and counted on /metrics by outcome. Every reply goes to the clicker only.
 */
import type { Counter, MetricRegistry } from '../metrics.js';
import type { Logger } from '../logger.js';
import type { AnswerControls, ControlReply, ControlRequest } from '../ports/controls.js';
import { BotError, vocabularies } from '../ports/errors.js';
import type { AnswerJob, JobStore } from '../ports/jobs.js';
import type { AnswerBook, FeedbackValue, TenantDirectory } from '../ports/stores.js';
import type { Tenant, TenantScope } from '../ports/tenancy.js';

export interface AnswerControlsDeps {
  tenants: Pick<TenantDirectory, 'resolve'>;
  jobs: Pick<JobStore, 'find' | 'activeIn'>;
  /** Aborts the answer where it runs (AnswerJobs.requestStop). */
  stopper: { requestStop(scope: TenantScope, jobId: string, by: string): Promise<boolean> };
  answers: AnswerBook;
  metrics: MetricRegistry;
  logger: Logger;
}

const reply = (done: boolean, text: string): ControlReply => ({ done, text });

export const CONTROL_TEXT = {
  stopping: 'Stopping the answer.',
  notYours: 'Only the person who asked, or an admin, can stop this answer.',
  finished: 'That answer has already finished.',
  nothingRunning: 'There is no answer being given here to stop.',
  thanksPositive: 'Thanks for the feedback: glad it helped.',
  thanksNegative: 'Thanks for the feedback: noted that it did not help. Admins can review these with `feedback`.',
  unknownAnswer: "I can't find that answer any more.",
  inactive: 'I am not active here.',
} as const;

export class AnswerControlsService implements AnswerControls {
  private readonly votes: Counter<'outcome'>;

  constructor(private readonly d: AnswerControlsDeps) {
    this.votes = d.metrics.counter({
      name: 'bot_answer_feedback_total',
      help: 'Feedback clicks on answers, by outcome (positive|negative)',
      labelNames: ['outcome'],
    });
  }

  async stop(req: ControlRequest & { answerId: string }): Promise<ControlReply> {
    return this.guarded(req, async (tenant) => {
      const job = await this.d.jobs.find(tenant, req.answerId);
      if (!job) return reply(false, CONTROL_TEXT.unknownAnswer);
      return this.stopJob(tenant, job, req);
    });
  }

  async stopIn(req: ControlRequest & { channelId: string; threadId: string | null }): Promise<ControlReply> {
    return this.guarded(req, async (tenant) => {
      const job = await this.d.jobs.activeIn(tenant, req.channelId, req.threadId);
      if (!job) return reply(false, CONTROL_TEXT.nothingRunning);
      return this.stopJob(tenant, job, req);
    });
  }

  async feedback(req: ControlRequest & { answerId: string; value: FeedbackValue }): Promise<ControlReply> {
    return this.guarded(req, async (tenant) => {
      const stored = await this.d.answers.vote(tenant, req.answerId, req.caller.userId, req.value);
      if (!stored) return reply(false, CONTROL_TEXT.unknownAnswer);
      this.votes.inc({ outcome: req.value });
      this.d.logger.info({ tenantId: tenant.tenantId, answerId: req.answerId, value: req.value }, 'answer feedback');
      return reply(true, req.value === 'positive' ? CONTROL_TEXT.thanksPositive : CONTROL_TEXT.thanksNegative);
    });
  }

  private async stopJob(tenant: Tenant, job: AnswerJob, req: ControlRequest): Promise<ControlReply> {
    const { userId } = req.caller;
    if (job.userId !== userId && !(await req.caller.isAdmin())) return reply(false, CONTROL_TEXT.notYours);
    const stopping = await this.d.stopper.requestStop(tenant, job.id, userId);
    if (!stopping) return reply(false, CONTROL_TEXT.finished);
    this.d.logger.info({ tenantId: tenant.tenantId, answerId: job.id, byAsker: job.userId === userId }, 'answer stop requested');
    return reply(true, CONTROL_TEXT.stopping);
  }

  /** The tenant, and a refusal (a caller from another organisation) said plainly. */
  private async guarded(req: ControlRequest, work: (tenant: Tenant) => Promise<ControlReply>): Promise<ControlReply> {
    const tenant = await this.d.tenants.resolve(req.platform, req.tenantExternalId);
    if (!tenant || tenant.status !== 'active') return reply(false, CONTROL_TEXT.inactive);
    try {
      return await work(tenant);
    } catch (err) {
      if (err instanceof BotError && err.expected) return reply(false, err.userText(vocabularies[req.platform]));
      throw err;
    }
  }
}
