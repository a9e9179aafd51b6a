/** Renders docs/sizing.md from bench/scale/results.json, so the guide's numbers are always measured ones. */
const fmt = (n) => Math.round(n).toLocaleString('en');

/** How the total changed with the number of collectors, said from the numbers. */
function scaling(runs) {
  const first = runs[0];
  const last = runs[runs.length - 1];
  const factor = last.spansPerSecond / first.spansPerSecond;
  const steps = runs.map((x) => `${fmt(x.spansPerSecond)} with ${x.collectors}`).join(', ');
  if (factor >= 1.2) {
    return `Total throughput grew with the number of collectors (${steps} spans/s: ×${factor.toFixed(1)}): one collector is one Node thread, so a second process puts the second core to work, and a third still helps while Elasticsearch keeps up.`;
  }
  return `Total throughput stayed about flat (${steps} spans/s): on this 2-core box Elasticsearch, Kafka and the collectors compete for the same cores.`;
}

export function renderSizing(r) {
  const perCollectorCore = Math.round(r.runs.reduce((s, x) => s + x.spansPerCollectorCoreSecond, 0) / r.runs.length);
  const perEsCore = Math.round(r.runs.reduce((s, x) => s + x.spansPerEsCoreSecond, 0) / r.runs.length);
  const agentPerCore = r.agent.linesPerCoreSecond;
  // Worked example: a fleet of 10,000 hosts, each serving 200 requests/s, sampling 0.3 % of
  // requests (Pinterest's usual rate), 20 spans per sampled trace.
  const fleetSpans = 10_000 * 200 * 0.003 * 20;
  const headroom = 0.6; // plan for 60 % utilisation: bursts, rebalances and GC need the rest
  const collectorCores = Math.ceil(fleetSpans / (perCollectorCore * headroom));
  const esCores = Math.ceil(fleetSpans / (perEsCore * headroom));
  const rows = r.runs
    .map(
      (x) =>
        `| ${x.collectors} | ${fmt(x.spansPerSecond)} | ${fmt(x.steadySpansPerSecond)} | ${fmt(x.spansPerCollectorCoreSecond)} | ${fmt(x.spansPerEsCoreSecond)} | ${x.maxCollectorRssMB} | ${x.lost} |`,
    )
    .join('\n');
  return `# Sizing guide

Measured by \`node bench/scale/run.mjs\` (rerun it to regenerate this page, \`bench/scale/results.json\`
and \`docs/sizing.svg\`) on ${r.machine.cpus} cores (${r.machine.model}), ${r.machine.memGB} GiB, ${r.date.slice(0, 10)}:
Kafka, Elasticsearch (one node, 512 MB heap) and the collectors all share those ${r.machine.cpus} cores, so
the absolute numbers are a floor; the per-core numbers are what carries over to a fleet.

![spans indexed per second](sizing.svg)

## Collectors draining a ${fmt(r.spans)}-span backlog (${r.partitions}-partition topic)

| collectors | spans/s (whole drain) | spans/s (10–90 %) | spans per collector CPU-second | spans per Elasticsearch CPU-second | max collector RSS (MB) | spans lost |
|---|---|---|---|---|---|---|
${rows}

${scaling(r.runs)} On separate hosts each collector brings its own cores; the per-core figure is the
one to plan with (it falls as collectors are added here only because they share two cores with
Elasticsearch and Kafka).

**A rebalance** (one of two collectors killed with SIGKILL at 30 % of the drain and replaced):
${fmt(r.rebalance.indexed)} of ${fmt(r.rebalance.spans)} spans indexed, **${r.rebalance.lost} lost**; the longest stretch with no new span
indexed was ${(r.rebalance.maxStallMs / 1000).toFixed(1)} s (session timeout + rejoin + re-reading the uncommitted batches of
the killed member; the re-read spans overwrite themselves, because document ids are deterministic).
The stall is mostly the group session timeout (\`--session-timeout-ms\`, default 30 s): a shorter one
reassigns a crashed member's partitions sooner, at the risk of rebalances during long pauses.

## Agent

One agent process started on one span file (${fmt(r.agent.lines)} lines, ${r.agent.megabytes} MB) and shipping it into Kafka:
${fmt(r.agent.linesPerSecond)} lines/s wall-clock, **${fmt(agentPerCore)} lines per CPU-second** including the process's
start-up (a running agent does better: see the agent section of \`bench/README.md\`), RSS ${r.agent.rssMB} MB. A host producing S spans/s
spends about S / ${fmt(agentPerCore)} of a core on shipping them.

## Planning a fleet

| resource | rule of thumb (measured here) |
|---|---|
| collector | ${fmt(perCollectorCore)} spans/s per core; plan at 60 % → ${fmt(perCollectorCore * headroom)} spans/s per core |
| Elasticsearch | ${fmt(perEsCore)} spans/s per node core (bulk indexing, 5 shards, 0 replicas); replicas multiply the indexing work |
| agent | ${fmt(agentPerCore)} lines/s per core; memory stays bounded (one batch per stream) |
| Kafka partitions | at least the largest number of collectors you will run (a partition is read by one member); 2–3× that leaves room to scale out without repartitioning. Messages are keyed by trace id, so a trace stays in one partition |

Worked example: 10,000 hosts × 200 requests/s × 0.3 % sampled × 20 spans per trace ≈ ${fmt(fleetSpans)} spans/s.
That needs about ${collectorCores} collector cores and ${esCores} Elasticsearch cores at 60 % utilisation, and
on each host about ${(((200 * 0.003 * 20) / agentPerCore) * 100).toFixed(3)} % of a core for the agent.
`;
}
