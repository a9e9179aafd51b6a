import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class MissingPrerequisiteError extends Error {
  readonly code = 'PINTRACE_DEVSTACK_PREREQUISITE';
  constructor(message: string) {
    super(message);
    this.name = 'MissingPrerequisiteError';
  }
}

async function versionOf(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 30_000 });
    return `${stdout}\n${stderr}`;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') return undefined;
    return `${e.stdout ?? ''}\n${e.stderr ?? ''}`;
  }
}

/** Java 17+ runs the servers and Maven fetches them; say exactly what to install when either is missing. */
export async function checkPrerequisites(needMaven: boolean): Promise<void> {
  const java = await versionOf('java', ['-version']);
  const major = java ? Number(/version "(\d+)/.exec(java)?.[1] ?? 0) : 0;
  const problems: string[] = [];
  if (!java || major < 17) {
    problems.push(
      `Java 17 or newer is required to run Kafka, Elasticsearch and zipkin-server (found ${java ? `Java ${major}` : 'no java on PATH'}). ` +
        'Install it with: apt-get install -y openjdk-17-jdk-headless',
    );
  }
  // The Elasticsearch launcher is compiled once from java/EsNode.java.
  if (java && major >= 17 && !(await versionOf('javac', ['-version']))) {
    problems.push('javac (a JDK, not only a JRE) is required to build the Elasticsearch launcher. Install it with: apt-get install -y openjdk-17-jdk-headless');
  }
  if (needMaven && !(await versionOf('mvn', ['-v']))) {
    problems.push('Maven is required to fetch the servers from Maven Central (found no mvn on PATH). Install it with: apt-get install -y maven');
  }
  if (problems.length) throw new MissingPrerequisiteError(problems.join('\n'));
}
