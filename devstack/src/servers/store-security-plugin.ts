/**
 * `--secure --store-security plugin`: the OpenSearch security plugin, the installable zip Maven
 * Central serves for the node's exact version, secures every node itself: TLS on HTTP and
 * transport with the devstack CA's server certificate, and basic auth against the plugin's
 * internal user database, which holds one user, `pintrace`, with the devstack's generated
 * password (bcrypt, hashed by the plugin's own Hasher tool). The plugin loads its yml config into
 * its index on the first start (`allow_default_init_securityindex`), so no securityadmin run is
 * needed. It has no Elasticsearch-style API keys: use the front (the default) for those.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveArtifacts } from '../artifacts.js';
import { ensureDevCerts } from '../certs.js';
import { readSecret } from '../secrets.js';
import type { PrepareContext } from './server.js';
import type { StoreEngine } from './store-engines.js';
import { ensureStoreSecrets } from './store-tls.js';

const run = promisify(execFile);

export interface SecurityPluginSetup {
  /** Lines for the node's yml. */
  settings: string[];
  /** Puts the plugin, its config and the PEM files into one node's home. */
  install(nodeHome: string): Promise<void>;
}

/** Subject names of the devstack certificates (certs.ts), in the RFC 2253 form the plugin compares. */
const SERVER_DN = 'CN=localhost,O=Pintrace-TS devstack';
const CLIENT_DN = 'CN=pintrace-client,O=Pintrace-TS devstack';

export async function prepareSecurityPlugin(
  engine: StoreEngine,
  { config, home, step }: PrepareContext,
  serverClasspath: string,
  jdk: { java: string; jar: string },
): Promise<SecurityPluginSetup> {
  if (!engine.securityPlugin) {
    const why =
      engine.distribution === 'opensearch'
        ? `the ${engine.label} security plugin needs the distribution's rule-framework module, which Maven Central does not serve`
        : "the security plugin is OpenSearch's, and Elastic's x-pack is not on Maven Central";
    throw new Error(
      `--store-security plugin works with --storage opensearch only: ${why}. With --storage ${engine.kind} use --store-security front (the default).`,
    );
  }
  step('resolving the OpenSearch security plugin (Maven)');
  const zipDir = path.join(home, 'security-plugin-zip');
  await resolveArtifacts(zipDir, engine.securityPlugin);
  const zip = (await readdir(zipDir)).find((f) => f.endsWith('.zip'));
  if (!zip) throw new Error(`Maven resolved no security plugin zip into ${zipDir}`);
  const unpacked = path.join(home, 'security-plugin');
  const marker = path.join(unpacked, '.unpacked');
  if (!existsSync(marker) || (await readFile(marker, 'utf8')).trim() !== zip) {
    step('unpacking the security plugin');
    await rm(unpacked, { recursive: true, force: true });
    await mkdir(unpacked, { recursive: true });
    // `jar` comes with every JDK (javac is required anyway): no unzip tool needed.
    await run(jdk.jar, ['xf', path.join(zipDir, zip)], { cwd: unpacked });
    await writeFile(marker, zip + '\n');
  }
  const secrets = await ensureStoreSecrets(config.dir);
  const certs = await ensureDevCerts(config.dir);
  step('hashing the store password for the plugin');
  // The password reaches the Hasher through its environment, never its command line.
  const { stdout } = await run(
    jdk.java,
    ['-cp', `${path.join(unpacked, '*')}:${serverClasspath}`, 'org.opensearch.security.tools.Hasher', '-env', 'PINTRACE_DEVSTACK_STORE_PASSWORD'],
    { env: { ...process.env, PINTRACE_DEVSTACK_STORE_PASSWORD: await readSecret(secrets.passwordFile) }, timeout: 60_000 },
  );
  const hash = stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^\$2[aby]\$\d+\$/.test(l));
  if (!hash) throw new Error("the security plugin's Hasher printed no bcrypt hash");
  const internalUsers = [
    '_meta:',
    '  type: "internalusers"',
    '  config_version: 2',
    `${secrets.username}:`,
    `  hash: "${hash}"`,
    '  reserved: true',
    // The plugin's default roles_mapping.yml maps backend role "admin" to all_access.
    '  backend_roles: ["admin"]',
    '  description: "Pintrace devstack user; password in <dir>/secrets/store-password"',
    '',
  ].join('\n');
  const pluginFiles = (await readdir(unpacked)).filter((f) => f.endsWith('.jar') || f === 'plugin-descriptor.properties' || f === 'plugin-security.policy');
  const securityConfig = (await readdir(path.join(unpacked, 'config'))).filter((f) => f.endsWith('.yml'));
  return {
    settings: [
      // The plugin reads PEM files relative to the node's config dir.
      'plugins.security.ssl.transport.pemcert_filepath: devstack-certs/server.pem',
      'plugins.security.ssl.transport.pemkey_filepath: devstack-certs/server-key.pem',
      'plugins.security.ssl.transport.pemtrustedcas_filepath: devstack-certs/ca.pem',
      // Every node presents the same certificate (CN=localhost), so node names cannot match it.
      'plugins.security.ssl.transport.enforce_hostname_verification: false',
      'plugins.security.ssl.http.enabled: true',
      'plugins.security.ssl.http.pemcert_filepath: devstack-certs/server.pem',
      'plugins.security.ssl.http.pemkey_filepath: devstack-certs/server-key.pem',
      'plugins.security.ssl.http.pemtrustedcas_filepath: devstack-certs/ca.pem',
      'plugins.security.allow_default_init_securityindex: true',
      `plugins.security.authcz.admin_dn: ["${CLIENT_DN}"]`,
      `plugins.security.nodes_dn: ["${SERVER_DN}"]`,
      'plugins.security.audit.type: noop',
      'plugins.security.restapi.roles_enabled: ["all_access"]',
    ],
    async install(nodeHome) {
      const pluginDir = path.join(nodeHome, 'plugins', 'opensearch-security');
      await rm(pluginDir, { recursive: true, force: true });
      await mkdir(pluginDir, { recursive: true });
      for (const f of pluginFiles) await copyFile(path.join(unpacked, f), path.join(pluginDir, f));
      const confDir = path.join(nodeHome, 'config', 'opensearch-security');
      await mkdir(confDir, { recursive: true });
      for (const f of securityConfig) await copyFile(path.join(unpacked, 'config', f), path.join(confDir, f));
      await writeFile(path.join(confDir, 'internal_users.yml'), internalUsers, { mode: 0o600 });
      await chmod(path.join(confDir, 'internal_users.yml'), 0o600);
      const certDir = path.join(nodeHome, 'config', 'devstack-certs');
      await mkdir(certDir, { recursive: true, mode: 0o700 });
      await copyFile(certs.caFile, path.join(certDir, 'ca.pem'));
      await copyFile(certs.serverCertFile, path.join(certDir, 'server.pem'));
      await copyFile(certs.serverKeyFile, path.join(certDir, 'server-key.pem'));
      await chmod(path.join(certDir, 'server-key.pem'), 0o600);
    },
  };
}
