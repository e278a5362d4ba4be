// One property out of a Spring Boot application.properties or application.yml, with the yml's
// nesting ("server:\n  port: 8081") and its multi-document profiles ("spring.config.activate.on-profile")
// read by a small line reader: only scalar values are needed here.

/** The value of `key` ("server.port"), the last one that applies winning; undefined when absent. */
export function springProperty(text: string, file: string, key: string, profiles: string[]): string | undefined {
  return /\.ya?ml$/i.test(file) ? yamlProperty(text, key, profiles) : propertiesValue(text, key);
}

function propertiesValue(text: string, key: string): string | undefined {
  let value: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]?\s*(.*)$/.exec(line);
    if (m && m[1] === key) value = m[2]!.trim();
  }
  return value;
}

function yamlProperty(text: string, key: string, profiles: string[]): string | undefined {
  let value: string | undefined;
  for (const doc of text.split(/^---\s*$/m)) {
    const flat = flattenYaml(doc);
    const only = flat.get('spring.config.activate.on-profile') ?? flat.get('spring.profiles');
    if (only !== undefined && !only.split(',').some((p) => profiles.includes(p.trim()))) continue;
    value = flat.get(key) ?? value;
  }
  return value;
}

/** Dotted keys to scalar values of a YAML document of nested mappings (lists and blocks skipped). */
export function flattenYaml(doc: string): Map<string, string> {
  const flat = new Map<string, string>();
  const stack: { indent: number; key: string }[] = [];
  for (const raw of doc.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(raw) || /^\s*-/.test(raw)) continue;
    const m = /^(\s*)(["']?)([^"':#][^:#]*?)\2\s*:(?:\s+(.*))?$/.exec(raw);
    if (!m) continue;
    const indent = m[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    const parent = stack.at(-1);
    const key = parent ? `${parent.key}.${m[3]!.trim()}` : m[3]!.trim();
    const value = m[4]?.replace(/\s+#.*$/, '').trim();
    if (value === undefined || value === '') stack.push({ indent, key });
    else flat.set(key, value.replace(/^(["'])(.*)\1$/, '$2'));
  }
  return flat;
}

/** Resolves "${PORT:8080}" placeholders from the launch's environment, else their default. */
export function resolvePlaceholders(value: string, env: (name: string) => string | undefined): string {
  return value.replace(/\$\{([^}:]+)(?::([^}]*))?\}/g, (whole, name: string, fallback: string | undefined) => {
    const fromEnv = env(name) ?? env(name.toUpperCase().replace(/[.-]/g, '_'));
    return fromEnv ?? fallback ?? whole;
  });
}
