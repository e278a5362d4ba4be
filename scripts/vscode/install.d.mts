// Types for install.mjs, so the TypeScript test harness can import it.
export declare const CODE_SERVER_VERSION: string;
export declare const CHROMIUM: string;
export declare function cacheRoot(): string;
export declare function codeServerDir(): string;
export interface EditorPaths {
  codeServerDir: string;
  codeServerEntry: string;
  codeServerVersion: string;
  chromium: string;
}
export declare function ensureEditor(): EditorPaths;
