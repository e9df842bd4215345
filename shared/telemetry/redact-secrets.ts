/**
 * Masks token-like text in a message, a log line or an audit detail: bearer tokens, JWTs, and the values of query
 * or form parameters that carry secrets (`sig`, `token`, `code`, `password`, …). Defence in depth: messages are
 * written to be safe, but a token pasted into one must still not leak to a problem body, a log or telemetry.
 *
 * @example
 * redactSecrets('GET /x?sig=abc&api-version=1') // 'GET /x?sig=[redacted]&api-version=1'
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\bBearer\s+[A-Za-z0-9._~+/-]+=*/gi, 'Bearer [redacted]')
    .replace(/\bBasic\s+[A-Za-z0-9+/]+=*/g, 'Basic [redacted]')
    .replace(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted-jwt]')
    .replace(/\b(sig|code|client_secret|access_token|refresh_token|id_token|password|token|af|\$skiptoken)=([^&\s"']+)/gi, '$1=[redacted]');
}
