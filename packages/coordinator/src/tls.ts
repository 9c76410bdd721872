/**
 * TLS for the REST API and the parties' /v1/ws: the certificate chain and key named by the
 * configuration, and the pin parties keep of it. The pin is SHA-256 of the certificate's public
 * key (its DER SubjectPublicKeyInfo, like HPKP's pin-sha256 but in hex), so it survives a renewal
 * that keeps the key; `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl
 * dgst -sha256` computes the same value.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CoordinatorConfig } from './config.js';

/** The certificate chain and key to serve, read from the configured files; null for plain HTTP. */
export function loadTlsFiles(config: Pick<CoordinatorConfig, 'tls'>): { cert: Buffer; key: Buffer } | null {
  if (!config.tls) return null;
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`invalid coordinator configuration: cannot read the TLS ${what} ${path} (${(e as Error).message})`);
    }
  };
  return { cert: read(config.tls.certPath, 'certificate'), key: read(config.tls.keyPath, 'key') };
}

/** The pin of the first certificate in `pem`: SHA-256 (hex) of its SubjectPublicKeyInfo. */
export function certificatePin(pem: string | Buffer): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}
