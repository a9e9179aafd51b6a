export type { SamplingState, SamplingDecision } from './sampling-state.js';
export type { Sampler } from './sampler.js';
export { ALWAYS_SAMPLE, NEVER_SAMPLE, decideSampling } from './sampler.js';
export type { RateSource } from './rate-source.js';
export { DEV_SAMPLE_RATE, devRate, fixedRate, isValidSampleRate } from './rate-source.js';
export { ProbabilisticSampler } from './probabilistic-sampler.js';
export { SamplerConfigError } from './errors.js';
export type { SamplerErrorCode } from './errors.js';

export { FileDecider } from './decider/file-decider.js';
export type { FileDeciderOptions, FileDeciderStats, DeciderLogger } from './decider/file-decider.js';
export { DeciderRateSource, SAMPLE_RATE_KEY, AUTO_SAMPLE_RATE_KEY, isDevMachine } from './decider/decider-rate-source.js';
export { DEFAULT_DECIDER_TOPIC, DECIDER_TOPIC_CONFIG, parseDeciderRecord } from './decider/fleet-record.js';
export type { DeciderRateSourceOptions } from './decider/decider-rate-source.js';
export {
  DEFAULT_DECIDER_FILE,
  deciderFilePath,
  readDeciderFile,
  writeDeciderFile,
  setDeciderValue,
} from './decider/decider-file.js';
export {
  DeciderFormatError,
  parseDeciderValues,
  formatDeciderValues,
  normalizeDeciderName,
  isDeciderValue,
} from './decider/decider-values.js';
export type { DeciderValues } from './decider/decider-values.js';

export { computeAdaptiveRates, checkAdaptiveConfig, autoRateKey, forgetComputedRates } from './adaptive/adaptive-controller.js';
export type {
  AdaptiveConfig,
  AdaptiveInput,
  AdaptiveOutput,
  AdaptiveDecision,
  AdaptiveReason,
  ComputedRateAbsence,
  EndpointWindow,
} from './adaptive/adaptive-controller.js';
