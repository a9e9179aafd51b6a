export type { SamplingState, SamplingDecision } from './sampling-state.js';
export type { Sampler } from './sampler.js';
export { ALWAYS_SAMPLE, NEVER_SAMPLE, decideSampling } from './sampler.js';
export type { RateSource } from './rate-source.js';
export { DEV_SAMPLE_RATE, devRate, fixedRate, isValidSampleRate } from './rate-source.js';
export { ProbabilisticSampler } from './probabilistic-sampler.js';
export { SamplerConfigError } from './errors.js';
export type { SamplerErrorCode } from './errors.js';
