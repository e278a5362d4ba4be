// Command lines as launch configurations give them: an array of words, or one string that the
// debugger splits like a shell would.

export function words(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((w): w is string => typeof w === 'string');
  if (typeof value === 'string') return splitCommandLine(value);
  return [];
}

/** Splits on unquoted whitespace; quotes group words and are dropped. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/**
 * The values given to any of `names` ("--port", "-p"): "--port 8000", "--port=8000", and for
 * single-dash names also Go's "-addr=:8080". The last one wins where programs read flags in order,
 * so values come back in command-line order.
 */
export function flagValues(args: string[], names: string[]): { flag: string; value: string }[] {
  const found: { flag: string; value: string }[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    for (const name of names) {
      if (word === name && i + 1 < args.length) found.push({ flag: name, value: args[i + 1]! });
      else if (word.startsWith(`${name}=`)) found.push({ flag: name, value: word.slice(name.length + 1) });
    }
  }
  return found;
}

/** The last value given to any of `names`, or undefined. */
export function lastFlag(args: string[], names: string[]): { flag: string; value: string } | undefined {
  return flagValues(args, names).at(-1);
}

/** Java-style -Dname=value system properties. */
export function systemProperty(args: string[], name: string): string | undefined {
  let value: string | undefined;
  for (const word of args) if (word.startsWith(`-D${name}=`)) value = word.slice(name.length + 3);
  return value;
}
