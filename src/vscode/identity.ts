// Who this developer is to teammates, and the header value they claim by default: the user name plus
// a short random suffix, made once per machine and kept in the extension's global state.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type * as vscode from 'vscode';

const SUFFIX_KEY = 'intercept.headerSuffix';

export function defaultHeaderValue(state: vscode.Memento): string {
  let suffix = state.get<string>(SUFFIX_KEY);
  if (!suffix || !/^[0-9a-f]{4}$/.test(suffix)) {
    suffix = randomBytes(2).toString('hex');
    void state.update(SUFFIX_KEY, suffix);
  }
  const user = os.userInfo().username.replace(/[^A-Za-z0-9._-]/g, '').toLowerCase() || 'dev';
  return `${user}-${suffix}`;
}
