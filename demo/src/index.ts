export { startDemo } from './start-demo.js';
export type { Demo, DemoOptions } from './start-demo.js';
export { driveTraffic } from './drive-traffic.js';
export type { TrafficOptions, TrafficResult } from './drive-traffic.js';
export { createFrontend } from './frontend.js';
export { createBackend } from './backend.js';
