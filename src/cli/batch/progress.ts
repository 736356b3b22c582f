/**
 * A one-line progress bar for a terminal: counts, rate and ETA, redrawn in place at most ten times
 * a second. It writes to stderr so stdout stays clean for whatever the user pipes.
 */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export interface ProgressCounts {
  total: number;
  done: number;
  failed: number;
  skipped: number;
  running: number;
  /** what the batch is doing before its first item can finish, shown in place of rate and ETA */
  preparing?: string;
}

export function renderBar(c: ProgressCounts, elapsedMs: number, width = 24): string {
  const finished = c.done + c.failed;
  const todo = c.total - c.skipped;
  const ratio = todo > 0 ? finished / todo : 1;
  const filled = Math.round(ratio * width);
  const perMin = elapsedMs > 0 ? (finished / elapsedMs) * 60_000 : 0;
  const eta = finished > 0 ? (elapsedMs / finished) * (todo - finished) : Number.NaN;
  const parts = [
    `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`,
    `${finished}/${todo}`,
    `${c.done} ok`,
    c.failed ? `${c.failed} failed` : '',
    c.skipped ? `${c.skipped} skipped` : '',
    ...(c.preparing && finished === 0 ? [c.preparing] : [`${perMin.toFixed(1)} img/min`, `ETA ${formatDuration(eta)}`]),
  ];
  return parts.filter(Boolean).join('  ');
}

export interface ProgressBar {
  update(c: ProgressCounts): void;
  /** prints a message above the bar */
  log(line: string): void;
  stop(): void;
}

export function createProgressBar(stream: NodeJS.WriteStream, start = Date.now()): ProgressBar {
  let last: ProgressCounts | null = null;
  let drawnAt = 0;
  const draw = () => {
    if (!last) return;
    const line = renderBar(last, Date.now() - start).slice(0, Math.max(20, (stream.columns || 120) - 1));
    stream.write(`\r\x1b[2K${line}`);
    drawnAt = Date.now();
  };
  // Redraw now and then even without news, so rate and ETA stay current during long items.
  const timer = setInterval(draw, 1000);
  timer.unref();
  return {
    update(c) {
      last = { ...c };
      if (Date.now() - drawnAt > 100 || c.done + c.failed + c.skipped === c.total) draw();
    },
    log(line) {
      stream.write(`\r\x1b[2K${line}\n`);
      draw();
    },
    stop() {
      clearInterval(timer);
      draw();
      stream.write('\n');
    },
  };
}
