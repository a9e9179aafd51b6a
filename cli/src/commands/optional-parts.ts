import type { Command } from 'commander';

/**
 * The demo (Thrift, memcache-client) and the devstack (Kafka, Elasticsearch, zipkin-server from
 * Maven Central) are parts of the repository, not of the published @pintrace/cli: a host that
 * runs only the agent, the collector or the ui must not install the demo's dependencies. So the
 * commands that need them (`up`, `demo`, `devstack`) load them when they run, and say what to do
 * when they are missing instead of failing with a module resolution error.
 */
export type OptionalPart = '@pintrace/demo' | '@pintrace/devstack';

/** A command needs a part that is not installed; `code` is stable, the message says what to do. */
export class PartNotInstalledError extends Error {
  readonly code = 'PART_NOT_INSTALLED';

  constructor(
    readonly command: string,
    readonly parts: OptionalPart[],
  ) {
    super(
      `\`pintrace ${command}\` needs ${parts.join(' and ')}, which ${parts.length > 1 ? 'are' : 'is'} not installed. ` +
        `${parts.length > 1 ? 'They are' : 'It is'} part of the Pintrace-TS repository, not of the published @pintrace/cli ` +
        `(the agent, collector, ui and decider commands need neither): run it in a clone of the repository ` +
        `(\`npm start\` runs \`pintrace up\`), or install the packed workspace${parts.length > 1 ? 's' : ''} next to the CLI ` +
        `(\`npm pack\` in ${parts.map((p) => `${p.slice('@pintrace/'.length)}/`).join(' and ')}, then \`npm install <tarball>\`).`,
    );
    this.name = 'PartNotInstalledError';
  }
}

/**
 * True when `err` says that `part` itself cannot be found. A part that is installed but fails to
 * load (one of its own dependencies missing, a bug) is not "not installed": that error goes up as
 * it is, so a broken install is not mistaken for an absent one.
 */
function isMissing(err: unknown, part: OptionalPart): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === 'ERR_MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${part}'`);
}

// Literal specifiers, so TypeScript types each module from its workspace.
const loaders = {
  '@pintrace/demo': () => import('@pintrace/demo'),
  '@pintrace/devstack': () => import('@pintrace/devstack'),
};

type Loaded<P extends OptionalPart> = Awaited<ReturnType<(typeof loaders)[P]>>;
export type DemoModule = Loaded<'@pintrace/demo'>;
export type DevstackModule = Loaded<'@pintrace/devstack'>;

/** The part's module, or undefined when it is not installed. */
export async function tryLoad<P extends OptionalPart>(part: P): Promise<Loaded<P> | undefined> {
  try {
    return (await loaders[part]()) as Loaded<P>;
  } catch (err) {
    if (isMissing(err, part)) return undefined;
    throw err;
  }
}

/** The part's module, or a PartNotInstalledError naming the command that needed it. */
export async function load<P extends OptionalPart>(part: P, command: string): Promise<Loaded<P>> {
  const mod = await tryLoad(part);
  if (!mod) throw new PartNotInstalledError(command, [part]);
  return mod;
}

/**
 * Registers `name` as a command that only explains what is missing: it stays in `pintrace
 * --help`, and any arguments or options given to it reach the explanation, not an
 * "unknown option" error that would hide it. The message names every part still missing when it
 * runs, so one install fixes it.
 */
export function registerUnavailable(program: Command, name: string, description: string, parts: OptionalPart[]): void {
  program
    .command(name)
    .description(`${description} (needs ${parts.join(' and ')}, not installed)`)
    .argument('[args...]')
    .allowUnknownOption()
    .helpOption(false)
    .action(async () => {
      const missing: OptionalPart[] = [];
      for (const part of parts) if (!(await tryLoad(part))) missing.push(part);
      throw new PartNotInstalledError(name, missing.length ? missing : parts);
    });
}
