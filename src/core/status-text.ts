/**
 * What the bot's status says while it works on an answer, one wording on every platform (a sink
 * may fit it to its surface: Slack shows "<bot> is thinking…").
 */
export const STATUS = {
  /** Waiting for a backend slot; `ahead`: questions before this one, when known. */
  waiting: (ahead?: number) => (ahead === undefined ? 'Waiting for a free slot…' : `Waiting for a free slot, ${ahead} ahead…`),
  thinking: 'Thinking…',
} as const;
