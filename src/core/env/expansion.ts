// `$(VAR)` references in a container's env values, expanded as the kubelet does: `$(NAME)` becomes
// the value of NAME when it is defined, and stays as written when it is not; `$$` is an escaped `$`
// (so `$$(NAME)` is the literal text `$(NAME)`); any other `$` and an unterminated `$(` are kept.
// The name is everything up to the first `)`, so a nested `$(A$(B))` is an unknown name.

export interface Expansion {
  readonly value: string;
  /** Every name the value referred to, defined or not, in order of appearance. */
  readonly references: readonly string[];
}

export function expandReferences(input: string, lookup: (name: string) => string | undefined): Expansion {
  let out = '';
  const references: string[] = [];
  let i = 0;
  while (i < input.length) {
    const dollar = input.indexOf('$', i);
    if (dollar < 0 || dollar === input.length - 1) {
      out += input.slice(i);
      break;
    }
    out += input.slice(i, dollar);
    const next = input[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '(') {
      const close = input.indexOf(')', dollar + 2);
      if (close < 0) {
        // An unterminated reference is kept; scanning resumes after the `(`.
        out += '$(';
        i = dollar + 2;
        continue;
      }
      const name = input.slice(dollar + 2, close);
      references.push(name);
      out += lookup(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += '$';
      i = dollar + 1;
    }
  }
  return { value: out, references };
}
