import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = path.join(repoRoot, 'cli', 'bin', 'pintrace.js');
const logDir = path.join(repoRoot, 'test', 'artifacts', 'logs');

export interface RunningPart {
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  /** SIGTERM and wait for a graceful exit. */
  stop(): Promise<number | string>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<number | string>;
}

/** Runs `pintrace <args>` as a child process with its JSON logs in test/artifacts/logs/<name>.log. */
export function startPart(name: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningPart {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}-${Date.now()}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Both streams into one file, which is ended once both have closed: 'exit' can fire before the
  // last lines have come through the pipes, and a test reading the log on exit missed them.
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) =>
    child.on('close', (code, signal) => {
      log.end(() => resolve(code ?? signal ?? -1));
    }),
  );
  return {
    child,
    logFile,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}
