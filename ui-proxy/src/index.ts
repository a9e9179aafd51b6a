// What the CLI and the integration tests use; everything else is internal (tests import src files directly).
export { startUiProxy } from './server.js';
export type { UiProxy, UiProxyDeps } from './server.js';
export { uiOptions } from './options.js';
export type { UiConfig } from './options.js';
