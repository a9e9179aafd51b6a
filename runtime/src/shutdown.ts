import type { Logger } from 'pino';

type Step = { name: string; run: () => Promise<void> | void };

/**
 * Runs registered steps once, in reverse order of registration (stop intake before closing
 * what it feeds), on SIGTERM/SIGINT or when called. A second signal exits at once.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;
  private installed = false;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Adds a step; later steps run first. */
  add(name: string, run: () => Promise<void> | void): this {
    this.steps.push({ name, run });
    return this;
  }

  /**
   * Adds the step that stops a part still being started by `starting`. Added, with the signal
   * handlers installed, before the start is awaited: a signal while the part starts then waits for
   * the start and stops the part gracefully, where Node's default action ended the process half
   * started (its metrics and streams can be up before the start resolves). A start that fails
   * leaves nothing to stop.
   */
  addStarting<T>(name: string, starting: Promise<T>, stop: (part: T) => Promise<void> | void): this {
    return this.add(name, async () => {
      let part: T;
      try {
        part = await starting;
      } catch {
        return;
      }
      await stop(part);
    });
  }

  /** Installs the signal handlers; the process exits after the steps finished. */
  installSignalHandlers(exit: (code: number) => void = (c) => process.exit(c)): this {
    if (this.installed) return this;
    this.installed = true;
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.running) {
        this.log.warn({ signal }, 'second signal: exiting without waiting for the drain');
        exit(130);
        return;
      }
      this.log.info({ signal }, 'shutting down: stop intake, drain, commit, close');
      void this.run().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    return this;
  }

  run(): Promise<void> {
    this.running ??= this.runSteps();
    return this.running;
  }

  private async runSteps(): Promise<void> {
    const timer = setTimeout(() => {
      this.log.error({ timeoutMs: this.timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, this.timeoutMs);
    timer.unref();
    let failed = false;
    for (const step of [...this.steps].reverse()) {
      try {
        await step.run();
        this.log.debug({ step: step.name }, 'shutdown step done');
      } catch (err) {
        failed = true;
        this.log.error({ step: step.name, err }, 'shutdown step failed');
      }
    }
    clearTimeout(timer);
    if (failed) throw new Error('shutdown had failing steps');
  }
}
