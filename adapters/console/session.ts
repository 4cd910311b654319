/**
 * One console conversation: turns input lines into engine messages for a workspace and channel.
 * `knowledge add --file PATH [title]` reads a local file (only here: chat platforms attach files).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Engine } from '../../src/core/engine.js';
import { ConsoleReplySink } from './console-sink.js';
import type { InboundFile, InboundMessage } from '../../src/ports/messages.js';

export interface ConsoleIdentity {
  workspace: string;
  channel: string;
  user: string;
  admin: boolean;
}

const mimeByExt: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.pdf': 'application/pdf',
  '.html': 'text/html',
  '.htm': 'text/html',
};

export class ConsoleSession {
  constructor(
    private readonly engine: Engine,
    private readonly who: ConsoleIdentity,
    private readonly out: NodeJS.WritableStream,
    private readonly stream: boolean,
  ) {}

  /** Handles one line and resolves once its whole answer is written. */
  async line(raw: string): Promise<void> {
    const text = raw.trim();
    if (!text) return;
    const sink = new ConsoleReplySink(this.out, { stream: this.stream });
    let attachments: InboundFile[] | undefined;
    let body = text;
    const file = /^\/llm\s+knowledge\s+add\s+--file\s+(\S+)\s*(.*)$/i.exec(text);
    if (file) {
      const path = file[1]!;
      try {
        const size = (await stat(path)).size;
        attachments = [
          { filename: basename(path), mimeType: mimeByExt[extname(path).toLowerCase()] ?? 'application/octet-stream', size, read: () => readFile(path) },
        ];
      } catch {
        this.out.write(`[error] cannot read ${path}\n`);
        return;
      }
      body = `/llm knowledge add ${file[2] ?? ''}`.trim();
    }
    const msg: InboundMessage = {
      platform: 'console',
      tenantExternalId: this.who.workspace,
      eventId: randomUUID(),
      channelId: this.who.channel,
      threadId: null,
      caller: { userId: this.who.user, isAdmin: async () => this.who.admin },
      text: body,
      kind: 'message',
      addressed: true,
      isDirect: false,
      ...(attachments ? { attachments } : {}),
    };
    // The engine resolves once the reply is written.
    const outcome = await this.engine.handle(msg, sink);
    if (!outcome.replied) this.out.write(`(no answer: ${outcome.status.replace('_', ' ')})\n`);
  }
}
