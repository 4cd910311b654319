/**
 * Progress for long operator commands (ingest, export), on stderr: one bar redrawn in place on a
 * terminal; on anything else (a log file, CI) plain lines, and not too many of them.
 */

export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

/** `[#####.....] 120/1,000`. */
export function barText(done: number, total: number, width = 30): string {
  const filled = total <= 0 ? width : Math.min(width, Math.round((done / total) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
}

/**
 * A reporter of rows done out of a total: redraws at most every `everyMs` on a terminal, prints
 * a line per tenth of the way otherwise; `finish()` draws the last state and ends the line.
 */
export function rowProgress(stream: ProgressStream, everyMs = 100): { update(done: number, total: number, what: string): void; finish(): void } {
  let last = 0;
  let lastTenth = -1;
  let state = { done: 0, total: 0, what: '' };
  const draw = () => {
    const text = `${barText(state.done, state.total)} rows ${state.what}`;
    if (stream.isTTY) stream.write(`\r\x1b[2K${text}`);
    else stream.write(`${text}\n`);
  };
  return {
    update(done, total, what) {
      state = { done, total, what };
      if (stream.isTTY) {
        if (Date.now() - last < everyMs) return;
        last = Date.now();
        draw();
        return;
      }
      const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      draw();
    },
    finish() {
      if (stream.isTTY) {
        draw();
        stream.write('\n');
      } else if (lastTenth !== 10) {
        draw();
      }
    },
  };
}
