/** What a bench is told: its command line, and from the environment the brokers it talks to. */

/**
 * A bench's command line: `--name value` options and bare `--flag`s, and after a lone `--` the
 * arguments handed through unchanged to the part under test.
 */
export function benchArgs(argv = process.argv.slice(2)) {
  const at = argv.indexOf('--');
  const own = at < 0 ? argv : argv.slice(0, at);
  return {
    /** The word after `--name`; `fallback` when `--name` is not given. */
    opt(name, fallback) {
      const i = own.indexOf(`--${name}`);
      return i >= 0 ? own[i + 1] : fallback;
    },
    /** Whether the bare flag `--name` is given. */
    has: (name) => own.includes(`--${name}`),
    extra: at < 0 ? [] : argv.slice(at + 1),
  };
}

/** The devstack's brokers unless PINTRACE_KAFKA_BROKERS names others. */
export const benchBrokers = () => (process.env.PINTRACE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
