/**
 * The fake Slack's AI-app surface and Block Kit checks: assistant.threads.setStatus /
 * setSuggestedPrompts / setTitle with Slack's limits (at most 4 prompts, at most 10 loading
 * messages, a thread for status and title), and the block checks Slack answers `invalid_blocks`
 * for (the block types and limits the bot uses: markdown, actions with buttons, context_actions
 * with feedback_buttons, a unique block_id).
 */

export interface ThreadStatusCall {
  channel: string;
  threadTs: string;
  status: string;
  loadingMessages: string[];
  at: number;
}

export interface PromptsCall {
  channel: string;
  threadTs?: string;
  title?: string;
  prompts: { title: string; message: string }[];
}

/** What the fake keeps of the assistant surface. */
export class FakeAssistantState {
  readonly statuses: ThreadStatusCall[] = [];
  readonly prompts: PromptsCall[] = [];
  readonly titles = new Map<string, string>();
  /** The status shown now in each thread (cleared when the bot posts there, or set to ''). */
  readonly current = new Map<string, string>();

  dispatch(method: string, a: Record<string, any>): Record<string, unknown> | null {
    switch (method) {
      case 'assistant.threads.setStatus': {
        if (!a.channel_id || !a.thread_ts || typeof a.status !== 'string') return { ok: false, error: 'invalid_arguments' };
        const loading = parseJson(a.loading_messages) ?? [];
        if (!Array.isArray(loading) || loading.length > 10) return { ok: false, error: 'invalid_arguments' };
        this.statuses.push({ channel: a.channel_id, threadTs: a.thread_ts, status: a.status, loadingMessages: loading, at: Date.now() });
        if (a.status === '') this.current.delete(key(a.channel_id, a.thread_ts));
        else this.current.set(key(a.channel_id, a.thread_ts), a.status);
        return { ok: true };
      }
      case 'assistant.threads.setSuggestedPrompts': {
        const prompts = parseJson(a.prompts);
        if (!a.channel_id || !Array.isArray(prompts) || prompts.length === 0 || prompts.length > 4) return { ok: false, error: 'invalid_arguments' };
        if (prompts.some((p: any) => typeof p?.title !== 'string' || typeof p?.message !== 'string' || !p.title || !p.message)) return { ok: false, error: 'invalid_arguments' };
        this.prompts.push({ channel: a.channel_id, ...(a.thread_ts ? { threadTs: a.thread_ts } : {}), ...(a.title ? { title: a.title } : {}), prompts });
        return { ok: true };
      }
      case 'assistant.threads.setTitle': {
        if (!a.channel_id || !a.thread_ts || typeof a.title !== 'string' || !a.title) return { ok: false, error: 'invalid_arguments' };
        this.titles.set(key(a.channel_id, a.thread_ts), a.title);
        return { ok: true };
      }
      default:
        return null;
    }
  }

  /** The bot posted in a thread: Slack clears its status there. */
  posted(channel: string, threadTs: string | undefined): void {
    if (threadTs) this.current.delete(key(channel, threadTs));
  }

  statusOf(channel: string, threadTs: string): string | undefined {
    return this.current.get(key(channel, threadTs));
  }
}

const key = (channel: string, threadTs: string) => `${channel}:${threadTs}`;

export function parseJson(v: unknown): any {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

const plainText = (t: any, max: number) => t?.type === 'plain_text' && typeof t.text === 'string' && t.text.length > 0 && t.text.length <= max;

/** Slack's answer to blocks it would refuse (`invalid_blocks`), or null when they pass. */
export function blockProblems(raw: unknown): string[] | null {
  const blocks = parseJson(raw);
  if (blocks === undefined) return null;
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  if (blocks.length > 50) problems.push('more than 50 blocks');
  const ids = new Set<string>();
  blocks.forEach((b: any, i: number) => {
    const at = `blocks[${i}]`;
    if (b?.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > 255) problems.push(`${at}.block_id too long`);
      if (ids.has(b.block_id)) problems.push(`${at}.block_id duplicated`);
      ids.add(b.block_id);
    }
    switch (b?.type) {
      case 'markdown':
        if (typeof b.text !== 'string' || b.text.length === 0 || b.text.length > 12_000) problems.push(`${at}.text must be 1-12000 characters`);
        break;
      case 'section':
        if (typeof b.text?.text !== 'string' || b.text.text.length > 3000) problems.push(`${at}.text must be at most 3000 characters`);
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) problems.push(`${at}.elements must be 1-25`);
        for (const e of b.elements ?? []) {
          if (e?.type !== 'button') problems.push(`${at}: only buttons are checked here`);
          if (!plainText(e?.text, 75)) problems.push(`${at}: a button needs plain_text of at most 75 characters`);
          if (typeof e?.action_id !== 'string' || e.action_id.length > 255) problems.push(`${at}: bad action_id`);
          if (e?.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000)) problems.push(`${at}: bad value`);
        }
        break;
      case 'context_actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 5) problems.push(`${at}.elements must be 1-5`);
        for (const e of b.elements ?? []) {
          if (e?.type !== 'feedback_buttons' && e?.type !== 'icon_button') problems.push(`${at}: unknown element ${String(e?.type)}`);
          if (e?.type === 'feedback_buttons') {
            for (const side of ['positive_button', 'negative_button']) {
              if (!plainText(e[side]?.text, 75) || typeof e[side]?.value !== 'string') problems.push(`${at}.${side} needs text and value`);
            }
          }
        }
        break;
      default:
        problems.push(`${at}: unexpected block type ${String(b?.type)}`);
    }
  });
  return problems.length ? problems : null;
}

/** Blocks carried in stream chunks (`{ type: 'blocks', blocks }`), in order. */
export function chunkBlocks(a: Record<string, any>): unknown[] {
  const chunks = parseJson(a.chunks);
  const out: unknown[] = [];
  for (const c of Array.isArray(chunks) ? chunks : []) if (c?.type === 'blocks' && Array.isArray(c.blocks)) out.push(...c.blocks);
  return out;
}
