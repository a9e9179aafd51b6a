import path from 'node:path';
import { z } from 'zod';
import { booleanSchema, portSchema, type ConfigOf, type OptionSpec } from '@pintrace/runtime';

const heapSchema = z.string().regex(/^\d+[mMgG]$/, 'expected a JVM heap size such as 512m or 1g');

function port(key: string, flag: string, env: string, what: string, def: number): OptionSpec<number> {
  return { key, flag, env, description: what, default: String(def), schema: portSchema };
}

/** Where the devstack puts its servers and how big they are; defaults match every other part's defaults. */
export const devstackOptions = {
  dir: {
    key: 'dir',
    flag: 'dir',
    env: 'PINTRACE_DEVSTACK_DIR',
    description: "Directory for the servers' jars, data, logs and pid files (git-ignored)",
    default: './var/devstack',
    schema: z
      .string()
      .min(1)
      .transform((s) => path.resolve(s)),
  },
  kafkaPort: port('kafkaPort', 'kafka-port', 'PINTRACE_DEVSTACK_KAFKA_PORT', 'Kafka broker port', 9092),
  kafkaControllerPort: port('kafkaControllerPort', 'kafka-controller-port', 'PINTRACE_DEVSTACK_KAFKA_CONTROLLER_PORT', 'Kafka KRaft controller port', 9093),
  esPort: port('esPort', 'es-port', 'PINTRACE_DEVSTACK_ES_PORT', 'Elasticsearch HTTP port', 9200),
  esTransportPort: port('esTransportPort', 'es-transport-port', 'PINTRACE_DEVSTACK_ES_TRANSPORT_PORT', 'Elasticsearch transport port', 9300),
  zipkinPort: port('zipkinPort', 'zipkin-port', 'PINTRACE_DEVSTACK_ZIPKIN_PORT', 'zipkin-server HTTP port (API and UI)', 9411),
  partitions: {
    key: 'partitions',
    flag: 'partitions',
    env: 'PINTRACE_DEVSTACK_PARTITIONS',
    description: 'Partitions of auto-created Kafka topics',
    default: '6',
    schema: z.coerce.number().int().min(1).max(1000),
  },
  heap: {
    key: 'heap',
    flag: 'heap',
    env: 'PINTRACE_DEVSTACK_HEAP',
    description: 'JVM heap of each server',
    default: '512m',
    schema: heapSchema,
  },
  secure: {
    key: 'secure',
    flag: 'secure',
    env: 'PINTRACE_DEVSTACK_SECURE',
    description:
      "Secure the stack: Kafka as a SASL_SSL listener (SCRAM-SHA-256/512 and PLAIN), the store behind TLS with basic auth (and an API key: see --store-security), certificates of the devstack's own CA; clients read <dir>/client-config.json",
    default: 'false',
    schema: booleanSchema,
  },
  kafkaBrokers: {
    key: 'kafkaBrokers',
    flag: 'kafka-brokers',
    env: 'PINTRACE_DEVSTACK_KAFKA_BROKERS',
    description: 'Kafka brokers (KRaft, each also a controller); broker i listens on kafka-port+2(i-1), its controller on kafka-controller-port+2(i-1)',
    default: '1',
    schema: z.coerce.number().int('expected a whole number of brokers').min(1, 'at least 1 broker').max(5, 'at most 5 brokers on one machine'),
  },
  autocompleteKeys: {
    key: 'autocompleteKeys',
    flag: 'autocomplete-keys',
    env: 'PINTRACE_AUTOCOMPLETE_KEYS',
    description: 'Tag keys zipkin-server offers for autocomplete (AUTOCOMPLETE_KEYS)',
    default: 'http.method,http.path,error',
    schema: z.string(),
  },
  storage: {
    key: 'storage',
    flag: 'storage',
    env: 'PINTRACE_DEVSTACK_STORAGE',
    description: 'The store on --es-port: elasticsearch (8.8.2), opensearch (2.19.4) or opensearch3 (3.4.0, needs a Java 21+ JDK: --java21-home)',
    default: 'elasticsearch',
    schema: z.enum(['elasticsearch', 'opensearch', 'opensearch3']),
  },
  storeSecurity: {
    key: 'storeSecurity',
    flag: 'store-security',
    env: 'PINTRACE_DEVSTACK_STORE_SECURITY',
    description:
      'How --secure secures the store: front (nginx on --es-port: TLS, basic auth and an API key; any store) or plugin (the OpenSearch security plugin in each node: TLS and basic auth, no API keys; --storage opensearch only)',
    default: 'front',
    schema: z.enum(['front', 'plugin']),
  },
  storeNodes: {
    key: 'storeNodes',
    flag: 'store-nodes',
    env: 'PINTRACE_DEVSTACK_STORE_NODES',
    description:
      'Store nodes in one cluster (indices get nodes-1 replicas); node i serves HTTP on es-port+i-1 (es-port+10+i-1 behind the --secure front) and transport on es-transport-port+i-1; node 1 is the only master',
    default: '1',
    schema: z.coerce.number().int('expected a whole number of nodes').min(1, 'at least 1 node').max(3, 'at most 3 nodes on one machine'),
  },
  java21Home: {
    key: 'java21Home',
    flag: 'java21-home',
    env: 'PINTRACE_DEVSTACK_JAVA21_HOME',
    description: 'A Java 21+ JDK for servers that need one (OpenSearch 3.x); default the newest under /usr/lib/jvm',
    schema: z
      .string()
      .min(1)
      .transform((s) => path.resolve(s))
      .optional(),
  },
} satisfies Record<string, OptionSpec>;

export type DevstackConfig = ConfigOf<typeof devstackOptions>;
