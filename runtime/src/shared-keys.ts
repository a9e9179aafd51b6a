/**
 * Keys one config file may carry for every part: `<devstack dir>/client-config.json` (or a team's
 * own shared file) says how to reach Kafka and the span store, and every part takes it as
 * `--config`. A part ignores the keys of a server it does not talk to (the agent has no store
 * option, so it skips `es*`); a key of a server it does talk to but cannot honour (say a Kafka
 * security setting of a part without one) stays an error, so nothing connects with less security
 * than configured, and a typo in a part's own options is still caught.
 *
 * Listed by name here (config.ts cannot import connection.ts, which imports it); a unit test
 * checks the list against the option specs.
 */
export const SHARED_CONNECTION_KEYS: Readonly<Record<'kafka' | 'es', readonly string[]>> = {
  kafka: [
    'kafka',
    'kafkaClient',
    'kafkaSecurityProtocol',
    'kafkaSaslMechanism',
    'kafkaSaslUsername',
    'kafkaSaslPassword',
    'kafkaSaslPasswordFile',
    'kafkaSaslOauthbearerTokenEndpointUrl',
    'kafkaCaFile',
    'kafkaCertFile',
    'kafkaKeyFile',
    'kafkaVerifyHostname',
  ],
  es: ['es', 'esUsername', 'esPassword', 'esPasswordFile', 'esApiKey', 'esApiKeyFile', 'esCaFile', 'esCertFile', 'esKeyFile'],
};

/** True when a config-file key the part does not know belongs to a server the part does not use (`kafka`/`es` absent). */
export function isForeignConnectionKey(key: string, known: ReadonlySet<string>): boolean {
  for (const [server, keys] of Object.entries(SHARED_CONNECTION_KEYS)) {
    if (keys.includes(key)) return !known.has(server);
  }
  return false;
}
