// The part of a request target that may be logged or shown: the path, and nothing of what commonly
// carries secrets in a URL. Used by the sidecar's request log and the extension's request list.

/** `scheme://authority` or `//authority` at the start of an absolute-form target. */
const SCHEME_AND_AUTHORITY = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/[^/?#]*/;
/**
 * Where the path ends: a query (`?`), a fragment (`#`), path parameters (`;jsessionid=...`), or
 * one of these percent-encoded, since servers and frameworks that decode before routing read
 * `%3F` as a query too.
 */
const PATH_END = /[?#;]|%(?:3[FfBb]|23)/;

/**
 * The request target without userinfo, path parameters, query or fragment.
 *
 * * origin-form `/a/b;jsessionid=X?q=1` → `/a/b`
 * * absolute-form `http://user:pw@host/p?q` → `/p`: only the path, so no part of the authority
 *   (where userinfo lives, and whose syntax a client may get wrong) is ever logged;
 * * authority-form `host:443` (CONNECT) → itself, without anything up to an `@`;
 * * asterisk-form `*` → `*`.
 */
export function logPath(target: string): string {
  let rest = target;
  const authority = SCHEME_AND_AUTHORITY.exec(rest);
  if (authority !== null) {
    rest = rest.slice(authority[0].length);
  } else if (!rest.startsWith('/')) {
    rest = rest.slice(rest.lastIndexOf('@') + 1);
  }
  const end = PATH_END.exec(rest);
  if (end !== null) rest = rest.slice(0, end.index);
  return rest === '' && authority !== null ? '/' : rest;
}
