// Which host the editor dials to reach a socket listening on a given address from this machine.

/**
 * Wildcard addresses are reached over the loopback of their own family (an IPv6-only `::` socket
 * does not take 127.0.0.1), IPv4-mapped addresses over IPv4, anything else (a loopback address or
 * one interface's address) as it is.
 */
export function connectHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return connectHost(mapped[1]);
  return address;
}
