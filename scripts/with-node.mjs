#!/usr/bin/env node
// Runs a command on the Node this project is tested on, whatever Node started npm:
//
//   node scripts/with-node.mjs [--node <major>] <command> [args...]
//
// Without --node it is the suite's major (scripts/node-runtime.mjs; the running Node when it is
// that major or newer). The Node's bin directory goes first on PATH, so the command, everything it
// spawns (`process.execPath`, `node`, `npm`, `#!/usr/bin/env node` scripts such as tsc and vitest)
// and the add-ons they load all run on the same Node. A pinned Node missing from the cache is
// installed first; the librdkafka binding is built for one Node at a time by scripts/setup.mjs
// (`--node <major>`), which the package.json scripts run before this.
import { spawn } from 'node:child_process';
import { SUITE_MAJOR, ensureNode, envFor } from './node-runtime.mjs';

const args = process.argv.slice(2);
let major = SUITE_MAJOR;
let allowNewer = true;
if (args[0] === '--node') {
  major = Number(args[1]);
  // An explicit major means exactly that one: it is what a run on "Node 22" has to prove.
  allowNewer = false;
  args.splice(0, 2);
}
if (!Number.isInteger(major) || args.length === 0) {
  process.stderr.write('usage: node scripts/with-node.mjs [--node <major>] <command> [args...]\n');
  process.exit(2);
}

const node = ensureNode(major, { allowNewer });
const child = spawn(args[0], args.slice(1), { stdio: 'inherit', env: envFor(node) });

// Ctrl-C reaches the whole foreground process group, the command included; passing it on would be
// a second SIGINT, which our parts take as "exit at once" instead of draining. So this process
// only waits for the command to finish. SIGTERM and SIGHUP usually come to one process alone and
// are passed on.
process.on('SIGINT', () => {});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));

child.on('error', (error) => {
  process.stderr.write(`with-node: ${args[0]}: ${error.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal, so that npm and shells report the command's fate, not ours.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
