// This build's version, set by the bundler from package.json; the sidecar it injects carries the same.
declare const INTERCEPT_VERSION: string | undefined;

export const VERSION: string = typeof INTERCEPT_VERSION === 'string' ? INTERCEPT_VERSION : '0.0.0-dev';
