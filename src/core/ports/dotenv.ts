// The env files launch configurations name in `envFile`, in dotenv syntax: NAME=value lines,
// `export ` prefixes, # comments, single or double quotes (double quotes know \n escapes).

export function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) continue;
    vars[m[1]!] = unquote(m[2]!);
  }
  return vars;
}

function unquote(value: string): string {
  const q = value[0];
  if (q === '"' || q === "'" || q === '`') {
    const end = value.indexOf(q, 1);
    const inner = end < 0 ? value.slice(1) : value.slice(1, end);
    return q === '"' ? inner.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1') : inner;
  }
  return value.replace(/\s+#.*$/, '').trim(); // an unquoted value ends at a comment
}
