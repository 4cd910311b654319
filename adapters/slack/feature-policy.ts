/**
 * Remembers, per workspace, that Slack refused a feature (native streaming, the thread status),
 * so later replies skip the try for a while and use the fallback at once.
 */
export class FeaturePolicy {
  private readonly refused = new Map<string, number>();
  constructor(
    private readonly enabled = true,
    private readonly retryAfterMs = 60 * 60_000,
  ) {}
  allowed(workspace: string): boolean {
    if (!this.enabled) return false;
    const until = this.refused.get(workspace);
    return until === undefined || until < Date.now();
  }
  refuse(workspace: string): void {
    this.refused.set(workspace, Date.now() + this.retryAfterMs);
  }
}

/** Native streaming (chat.startStream), per workspace. */
export class StreamingPolicy extends FeaturePolicy {}
