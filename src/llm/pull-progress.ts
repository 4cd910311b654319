/**
 * Turns Ollama's pull progress stream (many lines a second) into a few readable lines: each new
 * status once, and download progress per layer at most once per `stepPercent`.
 */
export interface PullProgressPart {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

export class PullProgressReporter {
  private lastStatus = '';
  private readonly lastPercentByLayer = new Map<string, number>();

  constructor(
    private readonly model: string,
    private readonly emit: (line: string) => void,
    private readonly stepPercent = 10,
  ) {}

  report(part: PullProgressPart): void {
    if (part.total && part.total > 0 && part.digest) {
      const percent = Math.floor(((part.completed ?? 0) / part.total) * 100);
      const step = Math.floor(percent / this.stepPercent) * this.stepPercent;
      const last = this.lastPercentByLayer.get(part.digest);
      if (last === undefined || step > last) {
        this.lastPercentByLayer.set(part.digest, step);
        this.lastStatus = part.status;
        this.emit(`${this.model}: ${part.status} ${step}% of ${formatBytes(part.total)}`);
      }
      return;
    }
    if (part.status !== this.lastStatus) {
      this.lastStatus = part.status;
      this.emit(`${this.model}: ${part.status}`);
    }
  }
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  return `${Math.ceil(n / 1e3)} kB`;
}
