// The two primitives of the glacis CLI's signer key file that WebCrypto lacks (docs/policy.md).
export { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
export { scrypt, scryptAsync } from '@noble/hashes/scrypt.js';
