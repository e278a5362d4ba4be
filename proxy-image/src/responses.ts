// Answers the sidecar writes itself. Each closes the connection: after an error the sidecar cannot
// be sure where the client's next request would begin.
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function errorResponse(status: number, body: string): Buffer {
  const text = `${body}\n`;
  return Buffer.from(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
      'content-type: text/plain; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(text)}\r\n` +
      'x-intercept-error: 1\r\n' +
      'connection: close\r\n\r\n' +
      text,
  );
}
