import { describe, expect, it } from 'vitest';
import { resolveConfig } from '@pintrace/runtime';
import { devstackOptions } from '../../src/options.js';
import { storeClientUrl } from '../../src/servers/store.js';
import { jdkFor, JdkNotFoundError, storeEngines } from '../../src/servers/store-engines.js';
import { storeHttpPorts, storeTransportPorts } from '../../src/servers/store-node.js';

const config = (flags: Record<string, unknown> = {}) => resolveConfig(devstackOptions, { env: {}, flags: { dir: '/tmp/ds', ...flags } });

describe('store ports and the URL clients are given', () => {
  it('one plain node: es-port, http', () => {
    const c = config();
    expect(storeHttpPorts(c)).toEqual([9200]);
    expect(storeClientUrl(c)).toBe('http://127.0.0.1:9200');
  });

  it('two nodes: consecutive HTTP and transport ports, every node given to clients', () => {
    const c = config({ storeNodes: 2 });
    expect(storeHttpPorts(c)).toEqual([9200, 9201]);
    expect(storeTransportPorts(c)).toEqual([9300, 9301]);
    expect(storeClientUrl(c)).toBe('http://127.0.0.1:9200,http://127.0.0.1:9201');
  });

  it('behind the TLS front the nodes move 10 ports up and clients get only the front', () => {
    const c = config({ secure: 'true', storeNodes: 2 });
    expect(storeHttpPorts(c)).toEqual([9210, 9211]);
    expect(storeClientUrl(c)).toBe('https://127.0.0.1:9200');
  });

  it('with the security plugin the nodes serve TLS on es-port and up', () => {
    const c = config({ secure: true, storeSecurity: 'plugin', storeNodes: 2, storage: 'opensearch' });
    expect(storeHttpPorts(c)).toEqual([9200, 9201]);
    expect(storeClientUrl(c)).toBe('https://127.0.0.1:9200,https://127.0.0.1:9201');
  });

  it('refuses an unknown store and more than 3 nodes, naming the option', () => {
    expect(() => config({ storage: 'solr' })).toThrow(/--storage/);
    expect(() => config({ storeNodes: 4 })).toThrow(/--store-nodes/);
  });
});

describe('the JDK of a store', () => {
  it('Java 17 stores use java on PATH', () => {
    expect(jdkFor(storeEngines.opensearch, config())).toEqual({ java: 'java', javac: 'javac', jar: 'jar' });
  });

  it('OpenSearch 3.x with --java21-home that is no JDK: an error naming the option', () => {
    const c = config({ storage: 'opensearch3', java21Home: '/nonexistent-jdk' });
    expect(() => jdkFor(storeEngines.opensearch3, c)).toThrow(JdkNotFoundError);
    expect(() => jdkFor(storeEngines.opensearch3, c)).toThrow(/--java21-home/);
  });
});
