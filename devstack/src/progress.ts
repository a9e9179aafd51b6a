/**
 * Shows one line per server with its state and elapsed time. On a terminal the lines are redrawn
 * in place; otherwise (CI, pipes) a line is printed whenever a server's state or step changes.
 */
export type State = 'waiting' | 'preparing' | 'starting' | 'ready' | 'running' | 'failed' | 'stopping' | 'stopped';

interface Row {
  name: string;
  state: State;
  detail: string;
  startedAt: number;
  endedAt?: number;
}

const symbols: Record<State, string> = {
  waiting: '·',
  preparing: '…',
  starting: '…',
  ready: '✔',
  running: '✔',
  failed: '✘',
  stopping: '…',
  stopped: '■',
};

export class Progress {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;

  constructor(
    names: string[],
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(out.isTTY) && process.env.CI !== 'true';
    const now = Date.now();
    for (const name of names) this.rows.set(name, { name, state: 'waiting', detail: '', startedAt: now });
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  update(name: string, state: State, detail = ''): void {
    const row = this.rows.get(name);
    if (!row) return;
    const changed = row.state !== state || row.detail !== detail;
    if (row.state === 'waiting' && state !== 'waiting') row.startedAt = Date.now();
    row.state = state;
    row.detail = detail;
    if (['ready', 'running', 'failed', 'stopped'].includes(state)) row.endedAt ??= Date.now();
    if (this.tty) this.draw();
    else if (changed) this.out.write(this.format(row) + '\n');
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.draw();
  }

  private format(row: Row): string {
    const seconds = (((row.endedAt ?? Date.now()) - row.startedAt) / 1000).toFixed(1);
    const time = row.state === 'waiting' ? '' : ` (${seconds}s)`;
    return `${symbols[row.state]} ${row.name.padEnd(14)} ${row.state}${row.detail ? `: ${row.detail}` : ''}${time}`;
  }

  private draw(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    for (const row of this.rows.values()) this.out.write(`\x1b[2K${this.format(row)}\n`);
    this.drawn = this.rows.size;
  }
}
