/**
 * The core's reply: the one place that turns a growing answer into platform messages. It drives
 * a ReplySink (which only posts, edits, streams and removes) and owns everything else:
 * - start() at most once (the sink's working indicator);
 * - update() is throttled to the platform's cadence, at most one platform call in flight, always
 *   the newest text; a rate-limited write pauses progress for the platform's Retry-After, any
 *   other failure stops progress (logged) and the final text still goes out;
 * - text past the platform's limit becomes more messages (parts); a part that is full is closed
 *   at once and never touched again, the last one stays live;
 * - finish() exactly once: later calls settle like the first and change nothing; pending
 *   progress is dropped so the final text goes first; a private finish becomes a notice.
 *
 * - status() says what the bot does before there is text (waiting for a slot, thinking) where the
 *   platform has a status line, else it puts up the working indicator;
 * - a live part that gets too old (limits.maxPartAgeMs) or that the platform stops taking text
 *   for (ReplyPartExpired) is closed with what it shows and the answer goes on in a new part.
 *
 * Parts are split from the end of the last sealed part, so a part may be sealed at any offset.
 */
import type { Logger } from '../../logger.js';
import { ReplyPartExpired, ReplyRateLimited, type ReplyKind, type ReplyPart, type ReplySink } from '../../ports/reply.js';
import { forcedPiece, nextPiece, splitText, type FullPiece } from './split.js';

export interface FinishOptions {
  /** 'error' lets a sink style a failure; 'notice' is a reply that is not an answer. */
  kind?: ReplyKind;
  /** Only the caller should see it, where the platform allows (settings answers, refusals). */
  ephemeral?: boolean;
}

/** Shown when a reply ends with no text at all (platforms refuse empty messages). */
const NO_TEXT = '(no answer)';

export class ReplyStream {
  private starting: Promise<void> | null = null;
  private finishing: Promise<void> | null = null;
  /** The newest progress text, and the last one the platform was given. */
  private latest: string | null = null;
  private shown: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private progressStopped = false;
  /** Parts closed because they filled up, and the source text they hold. */
  private sealed = 0;
  private sealedSource = '';
  /** The break dropped after the last sealed part, and the code fence it left open. */
  private sealedSeparator = '';
  private fence: string | null = null;
  /** The last, still growing part; `expired`: the platform stopped taking text for it. */
  private live: { part: ReplyPart; text: string; openedAt: number; expired: boolean } | null = null;
  /** Status writes, in order; text and the final reply wait for them (a late status must not outlive the reply). */
  private statusChain: Promise<void> = Promise.resolve();
  private statusShown = false;

  constructor(
    private readonly sink: ReplySink,
    private readonly logger?: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Shows the platform's working indicator; a second call (or one after finish) does nothing more. */
  start(): Promise<void> {
    if (this.finishing && !this.starting) return Promise.resolve();
    this.starting ??= this.sink.working();
    return this.starting;
  }

  /**
   * What the bot is doing while there is no text yet. Shown on the platform's status line when it
   * has one, else the working indicator goes up. Ignored once text or the final reply began.
   * Never rejects (a failure is logged).
   */
  status(text: string): Promise<void> {
    if (this.finishing || this.latest !== null) return this.statusChain;
    this.statusChain = this.statusChain.then(async () => {
      if (this.finishing || this.latest !== null) return;
      let shown = false;
      try {
        shown = (await this.sink.status?.(text)) ?? false;
      } catch (err) {
        this.logger?.warn({ err }, 'reply status could not be shown; showing the working indicator');
      }
      if (shown) this.statusShown = true;
      else {
        await this.start().catch((err: unknown) => this.logger?.warn({ err }, 'working indicator could not be shown'));
        // What the indicator puts up (a placeholder message) may show the status itself.
        if (this.finishing || this.latest !== null) return;
        shown = (await this.sink.status?.(text).catch(() => false)) ?? false;
        if (shown) this.statusShown = true;
      }
    });
    return this.statusChain;
  }

  /** Titles the conversation from its first question, where the platform titles threads. Never rejects. */
  async title(question: string): Promise<void> {
    await this.sink.title?.(question).catch((err: unknown) => this.logger?.warn({ err }, 'reply title could not be set'));
  }

  /** The whole answer so far. Never blocks and never throws; only the newest text is written. */
  update(textSoFar: string): void {
    if (this.finishing || this.progressStopped) return;
    const text = textSoFar.trim();
    if (!text) return;
    this.latest = text;
    this.schedule();
  }

  /**
   * Stops writing without a final text: the answer was interrupted (shutdown) and whoever resumes
   * it finishes the messages as they are. Later calls of any kind do nothing.
   */
  abandon(): void {
    this.finishing ??= Promise.resolve();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** True once finish() or abandon() was called. */
  get ended(): boolean {
    return this.finishing !== null;
  }

  /** The final text, exactly once. Rejects when the platform did not take it (the caller reports it). */
  finish(text: string, options: FinishOptions = {}): Promise<void> {
    this.finishing ??= this.deliver(text.trim() || NO_TEXT, options.kind ?? 'answer', options.ephemeral ?? false);
    return this.finishing;
  }

  private schedule(): void {
    if (this.timer || this.inFlight || this.finishing || this.latest === this.shown) return;
    const now = this.now();
    const wait = Math.max(0, this.lastSentAt + this.sink.limits.minUpdateIntervalMs - now, this.pausedUntil - now);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.finishing || this.progressStopped || this.latest === null) return;
    const text = this.latest;
    this.shown = text;
    this.lastSentAt = this.now();
    this.inFlight = this.show(text)
      .catch((err: unknown) => this.progressFailed(err))
      .finally(() => {
        this.inFlight = null;
        this.schedule();
      });
  }

  /** Writes progress text: seals the parts it fills, shows the rest in the live part. */
  private async show(text: string): Promise<void> {
    await this.statusChain;
    await this.starting?.catch(() => undefined);
    // A text that no longer continues the sealed parts can only be placed by finish().
    if (!text.startsWith(this.sealedSource)) return;
    const { maxChars } = this.sink.limits;
    let base = this.sealedSource.length;
    if (text.startsWith(this.sealedSeparator, base)) base += this.sealedSeparator.length;
    for (;;) {
      if (this.finishing) return;
      let piece: FullPiece | ReturnType<typeof nextPiece> = nextPiece(text.slice(base), maxChars, this.fence);
      // A live part that may no longer grow ends with about what it shows; the rest goes on in a new one.
      if (!piece.full && piece.text && this.live && this.tooOld(this.live)) piece = forcedPiece(text.slice(base), this.live.text.length, this.fence);
      if (!piece.full) {
        if (piece.text) await this.showLive(piece.text);
        break;
      }
      await this.seal(piece.text);
      this.sealedSource = text.slice(0, base + piece.end);
      this.sealedSeparator = piece.separator;
      this.fence = piece.fence;
      base += piece.end + piece.separator.length;
    }
  }

  private async showLive(text: string): Promise<void> {
    if (this.live) {
      if (this.live.text === text) return;
      await this.live.part.update(text);
      this.live.text = text;
      return;
    }
    this.live = { part: await this.sink.open(this.sealed, text), text, openedAt: this.now(), expired: false };
  }

  private tooOld(live: { openedAt: number; expired: boolean }): boolean {
    const max = this.sink.limits.maxPartAgeMs;
    return live.expired || (max !== undefined && this.now() - live.openedAt >= max);
  }

  /** Closes the part a full piece belongs to; it is never touched again. */
  private async seal(text: string): Promise<void> {
    // Kept as live until closed, so a failed close is retried by finish() on the same message.
    this.live ??= { part: await this.sink.open(this.sealed, text), text, openedAt: this.now(), expired: false };
    await this.live.part.close(text, 'answer');
    this.live = null;
    this.sealed += 1;
  }

  private progressFailed(err: unknown): void {
    if (err instanceof ReplyPartExpired && this.live) {
      // Shown again at once: the live part is closed and the text goes on in a new one.
      this.live.expired = true;
      this.shown = null;
      this.logger?.info({ part: this.sealed }, 'reply message can no longer grow; continuing in a new one');
      return;
    }
    if (err instanceof ReplyRateLimited) {
      this.pausedUntil = this.now() + err.retryAfterMs;
      this.logger?.warn({ retryAfterMs: err.retryAfterMs }, 'reply progress rate-limited; pausing updates');
      return;
    }
    // The answer is not lost: finish() writes the whole final text.
    this.progressStopped = true;
    this.logger?.warn({ err }, 'reply progress update failed; sending the final text only');
  }

  private async deliver(text: string, kind: ReplyKind, ephemeral: boolean): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.statusChain;
    await this.starting?.catch(() => undefined);
    if (ephemeral) return this.deliverPrivately(text, kind);
    if (kind !== 'answer' && !this.live && this.sealed === 0) return this.notices(text, kind, false);
    return this.placeFinal(text, kind);
  }

  /** A private finish takes down public progress (sealed parts stay: they were final) and goes out as a notice. */
  private async deliverPrivately(text: string, kind: ReplyKind): Promise<void> {
    await this.removeLive();
    // Nothing public follows to replace the status line: clear it.
    if (this.statusShown) await this.sink.status?.(null).catch(() => false);
    await this.notices(text, kind, true);
  }

  private async notices(text: string, kind: ReplyKind, isPrivate: boolean): Promise<void> {
    for (const piece of splitText(text, this.sink.limits.maxChars)) await this.sink.notice(piece, { private: isPrivate, kind });
  }

  /**
   * The final text into parts: it continues the sealed parts when it starts with their text;
   * otherwise (an error after a long partial answer) it follows them. The live part takes the
   * first new piece; a live part the final text does not reach is removed.
   */
  private async placeFinal(text: string, kind: ReplyKind): Promise<void> {
    const continues = text.startsWith(this.sealedSource);
    let rest = continues ? text.slice(this.sealedSource.length) : text;
    if (continues && rest.startsWith(this.sealedSeparator)) rest = rest.slice(this.sealedSeparator.length);
    const pieces = splitText(rest, this.sink.limits.maxChars, continues ? this.fence : null).filter((p) => p !== '');
    for (const [i, piece] of pieces.entries()) {
      const last = i === pieces.length - 1;
      if (i === 0 && this.live) {
        await this.live.part.close(piece, kind, { last });
        this.live = null;
      } else {
        const part = await this.sink.open(this.sealed + i, piece);
        await part.close(piece, kind, { last });
      }
    }
    await this.removeLive();
    await this.sink.trim?.(this.sealed + pieces.length).catch((err: unknown) => this.logger?.warn({ err }, 'could not take down earlier reply messages'));
  }

  private async removeLive(): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.live = null;
    // The reply is out either way; a message left behind is logged, not fatal.
    await live.part.remove().catch((err: unknown) => this.logger?.warn({ err }, 'could not remove a stale reply message'));
  }
}
