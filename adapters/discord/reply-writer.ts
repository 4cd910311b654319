/**
 * Writes a growing answer into a series of Discord messages: the first piece goes into the
 * primary message (the deferred interaction reply or the placeholder), later pieces into
 * follow-ups. Only the newest text matters, so while one write is in flight later texts
 * replace each other and only the last is written (edits never pile up behind a slow REST call).
 */
import { splitMessage, DISCORD_MESSAGE_LIMIT } from './split.js';

export interface PostedMessage {
  edit(content: string): Promise<void>;
  delete(): Promise<void>;
}

/** Where one reply's messages live. */
export interface ReplySurface {
  /** The message holding the first piece; null until created by `post`. */
  primary(): PostedMessage | null;
  /** Creates the next message (the primary first, when there is none yet). */
  post(content: string): Promise<PostedMessage>;
  /**
   * Called when editing `message` failed with `error`: returns a replacement posted elsewhere
   * (the interaction token expired: the channel), or rethrows.
   */
  recover(message: PostedMessage, content: string, error: unknown): Promise<PostedMessage>;
}

/** Discord rejects empty content; a zero-width space keeps a cleared piece valid. */
const EMPTY = '\u200b';

export class ChunkedReplyWriter {
  private readonly posted: { message: PostedMessage; content: string }[] = [];
  private pending: string | null = null;
  private running: Promise<void> | null = null;
  private lastError: unknown = null;

  constructor(
    private readonly surface: ReplySurface,
    private readonly onError: (err: unknown) => void,
    private readonly limit = DISCORD_MESSAGE_LIMIT,
  ) {}

  /** Writes `text` soon; a newer call before the write starts replaces it. Never throws. */
  schedule(text: string): void {
    this.pending = text;
    if (!this.running) this.running = this.drain();
  }

  /** Writes `text` after anything in flight, and resolves when it is written (or throws). */
  async flush(text: string): Promise<void> {
    this.lastError = null;
    this.schedule(text);
    while (this.running) await this.running;
    if (this.lastError) throw this.lastError;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== null) {
        const text = this.pending;
        this.pending = null;
        try {
          await this.write(text);
        } catch (err) {
          this.lastError = err;
          this.onError(err);
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async write(text: string): Promise<void> {
    const pieces = splitMessage(text, this.limit).map((p) => (p.trim() === '' ? EMPTY : p));
    const primary = this.surface.primary();
    if (primary && this.posted.length === 0) this.posted.push({ message: primary, content: '' });
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      const slot = this.posted[i];
      if (!slot) {
        this.posted.push({ message: await this.surface.post(piece), content: piece });
      } else if (slot.content !== piece) {
        try {
          await slot.message.edit(piece);
        } catch (err) {
          slot.message = await this.surface.recover(slot.message, piece, err);
        }
        slot.content = piece;
      }
    }
    // The final text can be shorter than what streamed (an error replacing a partial answer).
    while (this.posted.length > pieces.length) {
      const extra = this.posted.pop()!;
      await extra.message.delete().catch(this.onError);
    }
  }

  /** How many messages the reply uses now. */
  get messageCount(): number {
    return this.posted.length;
  }
}
