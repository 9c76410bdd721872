/**
 * Security headers on every answer (`@fastify/helmet`), chiefly the console's Content-Security-
 * Policy: scripts, styles, images and fetches from the coordinator's own origin only — no inline
 * script or style, no eval, no CDN, no plugin, no framing, no form posts — and Trusted Types
 * required with no policy allowed, so no string can ever reach an HTML or script sink (the console
 * builds its DOM from nodes and text only). The API's JSON answers carry the same headers: for them
 * they change nothing, and one policy for the whole origin leaves no route without one.
 */
import fastifyHelmet, { type FastifyHelmetOptions } from '@fastify/helmet';

/** The Content-Security-Policy directives of every answer. */
export const CONTENT_SECURITY_POLICY: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'require-trusted-types-for': ["'script'"],
  'trusted-types': ["'none'"],
});

/** helmet's options: the policy above, and HSTS only where the coordinator serves TLS. */
export function securityHeaderOptions(tls: boolean): FastifyHelmetOptions {
  return {
    global: true,
    contentSecurityPolicy: {
      // helmet's defaults add 'unsafe-inline' styles, data: images and upgrade-insecure-requests
      // (which would break the console on a plain-HTTP loopback coordinator): none of them here.
      useDefaults: false,
      directives: Object.fromEntries(Object.entries(CONTENT_SECURITY_POLICY).map(([k, v]) => [k, [...v]])),
    },
    crossOriginEmbedderPolicy: true,
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    // Not includeSubDomains: the coordinator's host name says nothing about its siblings'.
    strictTransportSecurity: tls ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    xFrameOptions: { action: 'deny' },
  };
}

export { fastifyHelmet };
