/**
 * The stores the devstack can run, each a real node assembled from the server jar and the netty4
 * HTTP module its vendor publishes on Maven Central (no vendor publishes a distribution there).
 * Facts per engine: the launcher class (java/EsNode.java or java/OsNode.java), the name of its
 * config file, the netty4 plugin class and the Java it needs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ArtifactSet } from '../artifacts.js';
import type { DevstackConfig } from '../options.js';

export type StoreKind = DevstackConfig['storage'];

export interface StoreEngine {
  kind: StoreKind;
  /** What `GET /` reports: Elasticsearch has no `version.distribution`, OpenSearch says "opensearch". */
  distribution: 'elasticsearch' | 'opensearch';
  version: string;
  label: string;
  artifacts: ArtifactSet;
  launcher: 'EsNode' | 'OsNode';
  configFile: 'elasticsearch.yml' | 'opensearch.yml';
  /** Key of the server version in the module's plugin-descriptor.properties. */
  descriptorVersionKey: 'elasticsearch.version' | 'opensearch.version';
  nettyClass: string;
  /** Setting naming the nodes that may elect the first master of a new multi-node cluster. */
  initialManagersKey: 'cluster.initial_master_nodes' | 'cluster.initial_cluster_manager_nodes';
  javaMajor: 17 | 21;
  /** The security plugin zip on Maven Central for this exact server version (OpenSearch only). */
  securityPlugin?: ArtifactSet;
}

export const storeEngines: Record<StoreKind, StoreEngine> = {
  elasticsearch: {
    kind: 'elasticsearch',
    distribution: 'elasticsearch',
    version: '8.8.2',
    label: 'Elasticsearch 8.8.2',
    artifacts: 'elasticsearch',
    launcher: 'EsNode',
    configFile: 'elasticsearch.yml',
    descriptorVersionKey: 'elasticsearch.version',
    nettyClass: 'org.elasticsearch.transport.netty4.Netty4Plugin',
    initialManagersKey: 'cluster.initial_master_nodes',
    javaMajor: 17,
  },
  opensearch: {
    kind: 'opensearch',
    distribution: 'opensearch',
    version: '2.19.4',
    label: 'OpenSearch 2.19.4',
    artifacts: 'opensearch',
    launcher: 'OsNode',
    configFile: 'opensearch.yml',
    descriptorVersionKey: 'opensearch.version',
    // 2.x names it Netty4Plugin; 3.x renamed it Netty4ModulePlugin.
    nettyClass: 'org.opensearch.transport.Netty4Plugin',
    initialManagersKey: 'cluster.initial_cluster_manager_nodes',
    javaMajor: 17,
    securityPlugin: 'opensearch-security',
  },
  opensearch3: {
    kind: 'opensearch3',
    distribution: 'opensearch',
    version: '3.4.0',
    label: 'OpenSearch 3.4.0',
    artifacts: 'opensearch3',
    launcher: 'OsNode',
    configFile: 'opensearch.yml',
    descriptorVersionKey: 'opensearch.version',
    nettyClass: 'org.opensearch.transport.Netty4ModulePlugin',
    initialManagersKey: 'cluster.initial_cluster_manager_nodes',
    // OpenSearch 3.x is compiled for Java 21 (class file version 65).
    javaMajor: 21,
    // opensearch-security 3.4.0.0 is on Central, but it extends the distribution's rule-framework
    // module, which is not: the node refuses it ("Missing plugin [rule-framework]").
  },
};

export class JdkNotFoundError extends Error {
  readonly code = 'PINTRACE_DEVSTACK_JDK';
  constructor(message: string) {
    super(message);
    this.name = 'JdkNotFoundError';
  }
}

function majorOf(jdkHome: string): number {
  try {
    const release = readFileSync(path.join(jdkHome, 'release'), 'utf8');
    return Number(/^JAVA_VERSION="(\d+)/m.exec(release)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * The `java` and `javac` commands for an engine. Java 17 engines use the ones on PATH (checked by
 * prerequisites.ts); a Java 21 engine uses --java21-home, or else the newest JDK under
 * /usr/lib/jvm, for that server only: the other servers keep the default Java.
 */
export function jdkFor(engine: StoreEngine, config: DevstackConfig): { java: string; javac: string; jar: string } {
  if (engine.javaMajor <= 17) return { java: 'java', javac: 'javac', jar: 'jar' };
  const candidates = config.java21Home
    ? [config.java21Home]
    : existsSync('/usr/lib/jvm')
      ? readdirSync('/usr/lib/jvm').map((d) => path.join('/usr/lib/jvm', d))
      : [];
  const usable = candidates
    .filter((home) => existsSync(path.join(home, 'bin', 'javac')) && majorOf(home) >= engine.javaMajor)
    .sort((a, b) => majorOf(b) - majorOf(a));
  const home = usable[0];
  if (!home) {
    throw new JdkNotFoundError(
      config.java21Home
        ? `${engine.label} needs a Java ${engine.javaMajor}+ JDK, and --java21-home / PINTRACE_DEVSTACK_JAVA21_HOME (${config.java21Home}) is not one (no bin/javac, or its release file says an older Java).`
        : `${engine.label} needs a Java ${engine.javaMajor}+ JDK and none was found under /usr/lib/jvm. Install one (apt-get install -y openjdk-21-jdk-headless) or pass --java21-home / PINTRACE_DEVSTACK_JAVA21_HOME.`,
    );
  }
  return { java: path.join(home, 'bin', 'java'), javac: path.join(home, 'bin', 'javac'), jar: path.join(home, 'bin', 'jar') };
}
