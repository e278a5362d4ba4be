// Every id the extension shares with package.json lives here, typed, so a rename is one edit.
export const CommandId = {
  showLog: 'intercept.showLog',
} as const;
export type CommandId = (typeof CommandId)[keyof typeof CommandId];

export const OUTPUT_CHANNEL_NAME = 'Intercept';
