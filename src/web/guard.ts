import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";

// Who may use the dashboard: whoever holds the URL `baton ui` printed, from this machine, through a
// page of the dashboard's own origin. The key is the token in every path (`/t/<token>/...`): the page
// and its script are loaded from there, and so are the API and the event stream, by relative URLs, so
// that no cookie is ever set (another site's page could send one). Everything else gets 403 and an
// empty body: a wrong or missing token, a Host that is not this server's own address (a DNS-rebinding
// page reaches 127.0.0.1 under its own name), a POST from another origin.

/** The headers every answer carries, a refusal included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
};

/** A new key: 32 random bytes (256 bits), URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Compares in constant time: both sides are hashed first, so neither length nor content leaks. */
export function sameToken(given: string, token: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The path prefix that holds the token: `/t/<token>`. */
export const prefixOf = (token: string): string => `/t/${token}`;

export interface GuardOptions {
  readonly token: string;
  /** The port the server listens on (known once it listens). */
  readonly port: () => number;
}

/** Refuses, with 403 and nothing else, every request that is not the dashboard's own. */
export function guard(options: GuardOptions): MiddlewareHandler {
  return async (c, next) => {
    const origins = [`127.0.0.1:${options.port()}`, `localhost:${options.port()}`];
    const refused = refusal(c.req.raw, origins, options.token);
    if (refused) return new Response(null, { status: 403, headers: SECURITY_HEADERS });
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  };
}

/** Why `request` is refused (for tests and logs), or undefined if it may go on. */
export function refusal(request: Request, hosts: readonly string[], token: string): string | undefined {
  const host = request.headers.get("host") ?? "";
  if (!hosts.includes(host.toLowerCase())) return "host";
  const url = new URL(request.url);
  const [, t, given = ""] = url.pathname.split("/");
  // Always compared, so that a wrong path costs the same time as a wrong token.
  const tokenOk = sameToken(given, token);
  if (t !== "t" || !tokenOk) return "token";
  if (request.method !== "GET" && request.method !== "HEAD") {
    const origin = request.headers.get("origin");
    if (origin !== null && !hosts.some((h) => origin === `http://${h}`)) return "origin";
    const site = request.headers.get("sec-fetch-site");
    if (site !== null && site !== "same-origin") return "origin";
  }
  return undefined;
}
